// Scheduled: asks ZenFlow for the state of open orders in case a webhook was lost
// (sync/backstop), at the lowest priority and a small share of the hourly budget.
import type { PluginLogger } from "../../core/host-api";
import { type BackstopDeps, backstop } from "../../sync/backstop";
import type { ScheduledTask } from "../scheduler";

export const ORDER_STATUS_BACKSTOP_TASK = "order-status-backstop";

export function orderStatusBackstopTask(deps: BackstopDeps & { log: PluginLogger }): ScheduledTask {
  return {
    name: ORDER_STATUS_BACKSTOP_TASK,
    every: () => ({ intervalMs: deps.config.backstopIntervalMinutes * 60_000 }),
    runAtFirstStart: false,
    async run(signal) {
      const r = await backstop(deps, signal);
      if (r.changed) deps.log.warn(r, "order status check found ZenFlow states no webhook had delivered");
    },
  };
}
