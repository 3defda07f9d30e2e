// Admin-requested: the send plan (admin/send-plan.ts), computed by whichever process holds
// the task's lease and stored for the command line, which cannot read the ERP. Writes
// nothing else and sends nothing.
import { PLAN_REPORT_KEY, type SendPlan, storedPlan } from "../../admin/send-plan";
import type { Clock } from "../../core/clock";
import { describeError } from "../../core/errors";
import type { KvStore } from "../../core/kv-store";
import { type Progress, clearRequest, pendingRequest, writeProgress } from "../../core/runs";
import type { ScheduledTask } from "../scheduler";

export const PLAN_TASK = "plan";

export function planTask(deps: { state: KvStore; clock: Clock; plan: () => Promise<SendPlan> }): ScheduledTask {
  const { state, clock } = deps;
  return {
    name: PLAN_TASK,
    every: () => ({ intervalMs: Number.POSITIVE_INFINITY }),
    runAtFirstStart: false,
    wanted: async () => !!(await pendingRequest(state, PLAN_TASK)),
    async run() {
      const now = clock.now();
      const p: Progress = { status: "running", startedAt: now, updatedAt: now, done: 0, total: null, errors: 0 };
      await writeProgress(state, PLAN_TASK, p);
      try {
        const plan = await deps.plan();
        await state.set(PLAN_REPORT_KEY, storedPlan(plan));
        Object.assign(p, { status: "done", done: plan.waiting, updatedAt: clock.now(), message: plan.summary });
      } catch (err) {
        Object.assign(p, {
          status: "failed",
          errors: 1,
          updatedAt: clock.now(),
          message: `could not compute the plan: ${describeError(err)}`,
        });
      }
      await writeProgress(state, PLAN_TASK, p);
      await clearRequest(state, PLAN_TASK);
    },
  };
}
