// Periodic work that must run once per interval across all ERP processes. Each process
// ticks; the one that wins the task's lease runs it, renews the lease while it works,
// and records the run in zenflow_state so no other process repeats it.
import { Cron } from "croner";
import type { Clock } from "../core/clock";
import { describeError } from "../core/errors";
import type { PluginLogger } from "../core/host-api";
import type { Leases } from "../core/leases";
import { leaseName } from "../jobs/keys";
import { type KvStore, kvKey } from "../core/kv-store";

export interface ScheduledTask {
  name: string;
  /** Minutes between runs, or a cron expression (UTC). */
  every: () => { intervalMs: number } | { cron: string };
  run(signal: AbortSignal): Promise<void>;
  /** Run as soon as the scheduler starts if it never ran before (default true). */
  runAtFirstStart?: boolean;
  /**
   * Run once soon after this process starts, whatever the last run: recovery work (the
   * reconciliation) must not wait out its interval after a crash. Satisfied as well by a run
   * that another process started after this one did.
   */
  runAtStart?: boolean;
  /** Also run when this says so (an admin asked for it, or an interrupted run must resume). */
  wanted?: () => Promise<boolean>;
}

export interface LastRun {
  at: number;
  ok: boolean;
  error?: string;
  durationMs: number;
  holder: string;
}

/** When a task last ran, by whom and how it went. */
export const lastRunKey = (task: string) => kvKey<LastRun>(`schedule:${task}`);

export interface SchedulerOptions {
  leases: Leases;
  state: KvStore;
  clock: Clock;
  log: PluginLogger;
  holderId: string;
  tickMs?: number;
  leaseMs?: number;
}

export class Scheduler {
  private readonly tasks = new Map<string, ScheduledTask>();
  private timer: NodeJS.Timeout | null = null;
  private readonly running = new Map<string, Promise<void>>();
  private readonly abort = new AbortController();
  private ticking: Promise<void> | null = null;
  /** Tasks with runAtStart that have not run since this scheduler started. */
  private readonly startPending = new Set<string>();
  private startedAt = 0;

  constructor(private readonly opts: SchedulerOptions) {}

  add(task: ScheduledTask): void {
    this.tasks.set(task.name, task);
  }

  get leaseMs(): number {
    return this.opts.leaseMs ?? 60_000;
  }

  start(): void {
    if (this.timer) return;
    this.startedAt = this.opts.clock.now();
    for (const t of this.tasks.values()) if (t.runAtStart) this.startPending.add(t.name);
    const tick = () => void this.tick();
    this.timer = setInterval(tick, this.opts.tickMs ?? 5000);
    this.timer.unref();
    tick();
  }

  /** Is the task due, given its last run? */
  isDue(task: ScheduledTask, last: LastRun | null, now: number): boolean {
    if (!last) return task.runAtFirstStart !== false;
    const every = task.every();
    if ("intervalMs" in every) return now - last.at >= every.intervalMs;
    const next = new Cron(every.cron, { timezone: "UTC", paused: true }).nextRun(new Date(last.at));
    return !!next && next.getTime() <= now;
  }

  tick(): Promise<void> {
    if (this.ticking) return this.ticking;
    // stop() waits for a tick in progress: its reads must not go on after the stack is gone.
    this.ticking = this.tickNow().finally(() => (this.ticking = null));
    return this.ticking;
  }

  private async tickNow(): Promise<void> {
    try {
      const tasks = [...this.tasks.values()];
      // One read for all tasks' last runs: every process ticks every few seconds.
      const lasts = await this.opts.state.getMany(tasks.map((t) => lastRunKey(t.name)));
      for (const [i, task] of tasks.entries()) {
        if (this.running.has(task.name) || this.abort.signal.aborted) continue;
        const last = lasts[i] ?? null;
        if (last && last.at >= this.startedAt) this.startPending.delete(task.name);
        const atStart = this.startPending.has(task.name);
        if (!atStart && !this.isDue(task, last, this.opts.clock.now()) && !(await task.wanted?.())) continue;
        const p = this.runTask(task, atStart)
          .then(
            () => undefined,
            () => undefined,
          )
          .finally(() => this.running.delete(task.name));
        this.running.set(task.name, p);
      }
    } catch (err) {
      this.opts.log.warn({ err: describeError(err) }, "scheduler tick failed");
    }
  }

  /** Runs a task now if this process can take its lease (used by ticks and admin actions). */
  async runTask(task: ScheduledTask | string, force = true): Promise<"ran" | "busy" | "failed"> {
    const t = typeof task === "string" ? this.tasks.get(task) : task;
    if (!t) throw new Error(`unknown task ${String(task)}`);
    // The lease keeps other processes out; this keeps a tick and an admin's click in the
    // same process from running the task twice (the lease lets its holder renew it).
    if (this.inProcess.has(t.name) || this.abort.signal.aborted) return "busy";
    this.inProcess.add(t.name);
    const run = this.runLeased(t, force).finally(() => {
      this.inProcess.delete(t.name);
      this.runs.delete(run);
    });
    // stop() waits for every run, however it was started (a tick, an admin's click, start-up).
    this.runs.add(run);
    return run;
  }

  private readonly inProcess = new Set<string>();
  private readonly runs = new Set<Promise<"ran" | "busy" | "failed">>();

  private async runLeased(t: ScheduledTask, force: boolean): Promise<"ran" | "busy" | "failed"> {
    const { leases, state, clock, log, holderId } = this.opts;
    const lease = leaseName.task(t.name);
    if (!(await leases.tryAcquire(lease, holderId, this.leaseMs))) return "busy";
    // A holder that cannot renew (its database calls stall past the lease) stops: by then
    // another process may have taken the task over, and two must never run it at once.
    const lost = new AbortController();
    const renew = setInterval(
      () =>
        void leases.renew(lease, holderId, this.leaseMs).then(
          (held) => {
            if (held || lost.signal.aborted) return;
            log.warn({ task: t.name }, "scheduled task lost its lease; stopping it here");
            lost.abort();
          },
          () => undefined,
        ),
      Math.max(100, this.leaseMs / 3),
    );
    renew.unref();
    const started = clock.now();
    try {
      // Another process may have finished it just before we got the lease.
      if (!force && !this.isDue(t, await state.get(lastRunKey(t.name)), clock.now()) && !(await t.wanted?.())) return "busy";
      await t.run(AbortSignal.any([this.abort.signal, lost.signal]));
      await state.set(lastRunKey(t.name), {
        at: started,
        ok: true,
        durationMs: clock.now() - started,
        holder: holderId,
      } satisfies LastRun);
      return "ran";
    } catch (err) {
      log.error({ task: t.name, err: describeError(err) }, "scheduled task failed");
      await state
        .set(lastRunKey(t.name), {
          at: started,
          ok: false,
          error: describeError(err),
          durationMs: clock.now() - started,
          holder: holderId,
        } satisfies LastRun)
        .catch(() => undefined);
      return "failed";
    } finally {
      clearInterval(renew);
      await leases.release(lease, holderId).catch(() => undefined);
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.abort.abort();
    await this.ticking;
    await Promise.allSettled([...this.running.values(), ...this.runs]);
  }
}
