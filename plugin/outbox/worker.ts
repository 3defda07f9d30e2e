// Drains a JobQueue: claims due jobs, hands each kind to its synchronizer, and settles
// every job as done, retried (backoff with full jitter, never before Retry-After) or
// dead-lettered with a message an admin can act on. `runOnce()` lets tests drain the
// queue deterministically; `start()` runs the same step in a loop, in which a slow group
// (a hung ERP call waiting for its deadline, a request waiting out a pause) never stops the
// others: each kind may have two groups in flight, and the loop keeps claiming.
import type { Clock } from "../core/clock";
import { describeError, retryPolicyOf } from "../core/errors";
import type { History, HistoryEntry, Outcome } from "../core/history";
import type { PluginLogger } from "../core/host-api";
import type { BackoffPolicy } from "../core/backoff";
import type { EventLog } from "./event-log";
import { type BatchDecision, decideBatch, partialTail } from "./batch-hold";
import type { JobQueue, QueueJob } from "./queue";

export type JobResult =
  | { type: "done"; outcome: Outcome; message?: string; zenflowId?: string; /** Notes written to the ERP record. */ notes?: string[] }
  | { type: "failed"; error: unknown }
  | { type: "dead"; message: string; code: string; status?: "dead" | "ignored" | "unmatched" };

export interface SyncHandler {
  kind: string;
  /** How many jobs of this kind one step claims (bulk kinds claim whole requests' worth). */
  claimLimit?: number;
  /** Jobs one request carries when full: while the budget is short, partial batches are held (batch-hold.ts). */
  fullBatch?: number;
  /** Handles a group of claimed jobs of this kind; returns a result for every job id. */
  run(jobs: QueueJob[]): Promise<Map<number, JobResult>>;
  /**
   * The requests `run` would send for these jobs now, read-only and from the same decisions
   * (the plan view). Jobs named by no request would be settled without one.
   */
  plan?(jobs: QueueJob[]): Promise<PlannedRequest[]>;
  /**
   * Of these jobs, those that never share a request (an edit or a cancellation of an order
   * ZenFlow has): holding them for a fuller batch would only delay them. Read from the
   * plugin's tables only, so that a hold decision stays cheap.
   */
  alone?(jobs: QueueJob[]): Promise<Set<number>>;
}

/** One request a handler would send, and the jobs it carries. */
export interface PlannedRequest {
  /** As the request log names it, e.g. "POST /orders". */
  endpoint: string;
  /** The limiter's priority for it (jobs/priorities). */
  priority: number;
  jobIds: number[];
}

export interface WorkerMetrics {
  jobSettled(queue: string, kind: string, result: string): void;
}

export interface SendGate {
  /** When the next request can go, or null if now. */
  nextAvailableAt(): Promise<{ at: number } | null>;
  /**
   * Whether the rate budget is what limits sending (then partial batches wait): at its current
   * pace, or if each job arriving at this rate took a request of its own.
   */
  budgetShort?(demand: { arrivalsPerMs: number }): Promise<boolean>;
}

export interface WorkerOptions {
  name: string;
  queue: JobQueue;
  handlers: SyncHandler[];
  history: History;
  clock: Clock;
  log: PluginLogger;
  /** Outbox only: ERP changes waiting in zenflow_event_log are routed into the queue first. */
  eventLog?: EventLog;
  /** When set, nothing is claimed while this says sending must wait (outbox: the shared budget). */
  gate?: SendGate;
  claimLimit: number;
  pollMs: number;
  batchWindowMs: number;
  /** While the budget is short, how long a partial batch may wait to fill (0: never held). */
  holdPartialMs?: number;
  maxAttempts: number;
  /** Failures that use no attempt (pauses, contention) after which a job is a dead letter anyway. */
  maxDeferrals: number;
  leaseMs: number;
  backoff?: BackoffPolicy;
  metrics?: WorkerMetrics;
}

/**
 * The demand a batch-hold decision weighs: jobs of the kind that arrived in the last minute,
 * or in the last 10 s once a few did (a burst shows within seconds; one lone order says
 * nothing about the next minute).
 */
const ARRIVALS = { longMs: 60_000, shortMs: 10_000, shortMinJobs: 3 } as const;

/** Groups of one kind the loop may have in flight at once. */
const GROUPS_PER_KIND = 2;

export class Worker {
  private readonly opts: WorkerOptions;
  private readonly handlers: Map<string, SyncHandler>;
  private running = false;
  private loopDone: Promise<void> | null = null;
  private wake: AbortController = new AbortController();
  private stopCtl = new AbortController();
  private lastSweep = 0;
  private inFlightTokens = new Set<string>();
  /** Groups being worked on, per kind (the loop's step does not wait for them). */
  private readonly groupsInFlight = new Map<string, Set<Promise<void>>>();
  private heartbeatTimer: NodeJS.Timeout | null = null;
  /** The earliest moment a partial batch held back by the last step must go (0: none held). */
  private heldUntil = 0;
  /** Epoch ms of the last claim that found work, and of the last fully successful send. */
  lastActivityAt = 0;
  lastError: string | null = null;

  constructor(opts: WorkerOptions) {
    this.opts = opts;
    this.handlers = new Map(opts.handlers.map((h) => [h.kind, h]));
  }

  /** New work was enqueued in this process: wake the loop (after the batch window). */
  notify(): void {
    // abort() builds a DOMException on every call, even a repeated one; a webhook burst
    // notifies once per delivery.
    if (!this.wake.signal.aborted) this.wake.abort();
  }

  /**
   * One claim-process-settle step, waiting for what it claimed. Returns how many jobs it
   * settled. Tests and the CLI's "send now" drain everything due; `holdPartial` makes the
   * step decide as the running loop does.
   */
  async runOnce(opts: { holdPartial?: boolean } = {}): Promise<number> {
    const launched = await this.step(opts.holdPartial ?? false);
    await Promise.all(launched.map((g) => g.done));
    return launched.reduce((n, g) => n + g.jobs, 0);
  }

  /**
   * Sweeps, routes and claims, and starts a group per kind that has room (two groups per kind
   * at most). Does not wait for the groups: the caller decides.
   */
  private async step(holdPartial: boolean): Promise<{ jobs: number; full: boolean; done: Promise<void> }[]> {
    const { queue, clock } = this.opts;
    const now = clock.now();
    if (now - this.lastSweep >= Math.min(5000, this.opts.leaseMs / 2)) {
      this.lastSweep = now;
      const n = await queue.sweep(this.opts.maxAttempts);
      if (n) this.opts.log.warn({ queue: this.opts.name, jobs: n }, "reclaimed jobs whose worker stopped");
    }
    if (this.opts.eventLog) while ((await this.opts.eventLog.route()) >= 500);
    // One claim per kind, in the order the handlers were given (most urgent first), so that
    // bulk kinds are claimed in whole requests' worth and never crowd out orders. Kinds run
    // side by side; the limiter decides which request goes first by priority.
    const launched: { jobs: number; full: boolean; done: Promise<void> }[] = [];
    this.heldUntil = 0;
    for (const h of this.handlers.values()) {
      const running = this.groupsInFlight.get(h.kind) ?? new Set<Promise<void>>();
      if (running.size >= GROUPS_PER_KIND) continue;
      let limit = h.claimLimit ?? this.opts.claimLimit;
      let wholeBatches = false;
      let only: number[] | undefined;
      if (holdPartial && h.fullBatch) {
        const d = await this.batchDecision(h.kind, h.fullBatch, limit);
        if (d.action === "none") continue;
        if (d.action === "hold") {
          this.heldUntil = this.heldUntil ? Math.min(this.heldUntil, d.until) : d.until;
          // What cannot share a request goes now; the partial batch waits for company.
          only = h.alone ? [...(await h.alone(await queue.peekDue(h.kind, limit)))] : [];
          if (!only.length) continue;
        } else {
          limit = d.limit;
          wholeBatches = d.wholeBatches;
        }
      }
      let jobs = await queue.claim(limit, [h.kind], only);
      const tail = wholeBatches ? partialTail(jobs.length, h.fullBatch!) : 0;
      if (tail) {
        // Another process claimed part of what was due: the partial rest waits for company.
        await queue.unclaim(jobs.slice(jobs.length - tail));
        jobs = jobs.slice(0, jobs.length - tail);
      }
      if (!jobs.length) continue;
      this.lastActivityAt = clock.now();
      const tokens = new Set(jobs.map((j) => j.lockedBy));
      tokens.forEach((t) => this.inFlightTokens.add(t));
      this.ensureHeartbeat();
      const done: Promise<void> = this.runGroup(h.kind, jobs).finally(() => {
        tokens.forEach((t) => this.inFlightTokens.delete(t));
        running.delete(done);
        // Room for another group of this kind: let the loop claim again.
        this.notify();
      });
      running.add(done);
      this.groupsInFlight.set(h.kind, running);
      launched.push({ jobs: jobs.length, full: jobs.length >= limit, done });
    }
    return launched;
  }

  /** Claim now, or hold a partial batch while the budget is short (batch-hold.ts decides). */
  private async batchDecision(kind: string, fullBatch: number, claimLimit: number): Promise<BatchDecision> {
    const due = await this.opts.queue.dueSummary(kind, claimLimit);
    // The budget is read only when it could change the answer. A due count that is a whole
    // number of batches still asks: another process may claim part of it first.
    const { budgetShort, holdMs } = due.count > 0 ? await this.holdPolicy(kind, fullBatch) : { budgetShort: false, holdMs: 0 };
    return decideBatch({ due, fullBatch, claimLimit, holdMs, budgetShort, now: this.opts.clock.now() });
  }

  /** Whether partial batches of a kind are held now, and for how long at most. */
  async holdPolicy(kind: string, fullBatch: number): Promise<{ budgetShort: boolean; holdMs: number }> {
    const holdMs = this.opts.holdPartialMs ?? 0;
    if (holdMs <= 0 || fullBatch <= 1 || !this.opts.gate?.budgetShort) return { budgetShort: false, holdMs };
    const now = this.opts.clock.now();
    return { budgetShort: await this.opts.gate.budgetShort({ arrivalsPerMs: await this.arrivalRate(kind, now) }), holdMs };
  }

  /** The kinds this worker sends, in claim order, with what the plan view needs to foresee their claims. */
  planKinds(): { kind: string; claimLimit: number; fullBatch: number; plan?: SyncHandler["plan"]; alone?: SyncHandler["alone"] }[] {
    return [...this.handlers.values()].map((h) => ({
      kind: h.kind,
      claimLimit: h.claimLimit ?? this.opts.claimLimit,
      fullBatch: h.fullBatch ?? 1,
      plan: h.plan?.bind(h),
      alone: h.alone?.bind(h),
    }));
  }

  /** Jobs per ms arriving for this kind (ARRIVALS). */
  private async arrivalRate(kind: string, now: number): Promise<number> {
    const n = await this.opts.queue.arrivals(kind, { long: now - ARRIVALS.longMs, short: now - ARRIVALS.shortMs });
    const burst = n.short >= ARRIVALS.shortMinJobs ? n.short / ARRIVALS.shortMs : 0;
    return Math.max(n.long / ARRIVALS.longMs, burst);
  }

  /** Runs steps until nothing is due (tests, CLI). */
  async drain(maxSteps = 10_000): Promise<number> {
    let total = 0;
    for (let i = 0; i < maxSteps; i++) {
      const n = await this.runOnce();
      if (!n) break;
      total += n;
    }
    return total;
  }

  private async runGroup(kind: string, jobs: QueueJob[]): Promise<void> {
    const handler = this.handlers.get(kind)!;
    let results: Map<number, JobResult>;
    try {
      results = await handler.run(jobs);
    } catch (error) {
      // A handler that throws fails its whole group; each job is retried on its own schedule.
      results = new Map(jobs.map((j) => [j.id, { type: "failed", error } as JobResult]));
    }
    await this.settle(jobs, results);
  }

  private async settle(jobs: QueueJob[], results: Map<number, JobResult>): Promise<void> {
    const { queue, clock, history, log } = this.opts;
    const done: QueueJob[] = [];
    const zenflowIds = new Map<number, string | undefined>();
    const entries: HistoryEntry[] = [];
    const retryAt = new Map<string, number>();
    for (const job of jobs) {
      const r = results.get(job.id) ?? { type: "failed", error: new Error("the synchronizer returned no result for this job") };
      const base = { entityKey: job.entityKey ?? `${job.kind}:${job.id}`, erpRef: job.erpRef, kind: job.kind, jobId: job.id };
      if (r.type === "done") {
        done.push(job);
        if (r.zenflowId) zenflowIds.set(job.id, r.zenflowId);
        entries.push({ ...base, outcome: r.outcome, message: r.message ?? null, zenflowId: r.zenflowId ?? null });
        // Each note the ERP record got, as its own line: the order timeline shows what was written.
        for (const note of r.notes ?? []) entries.push({ ...base, outcome: "note", message: note });
        this.opts.metrics?.jobSettled(this.opts.name, job.kind, r.outcome);
        // The one line that ties a job and its ERP reference to the ZenFlow id it became.
        log.debug({ jobId: job.id, kind: job.kind, erpRef: job.erpRef, zenflowId: r.zenflowId, outcome: r.outcome }, "job done");
      } else if (r.type === "dead") {
        await queue.kill(job, { message: r.message, code: r.code }, r.status ?? "dead");
        const status = r.status ?? "dead";
        entries.push({ ...base, outcome: status, message: r.message });
        this.opts.metrics?.jobSettled(this.opts.name, job.kind, status);
        if (status === "dead")
          log.warn({ jobId: job.id, kind: job.kind, erpRef: job.erpRef, reason: r.message }, "job parked as dead letter");
      } else {
        const decision = this.decideRetry(job, r.error);
        if (decision.type === "retry") {
          // Jobs of one group that failed alike come back together, so that they leave in one
          // request again rather than split by each one's own jitter (a batch cut in pieces
          // costs a request per piece).
          const key = `${decision.code}:${job.attempts}:${decision.countAttempt}`;
          decision.at = retryAt.get(key) ?? decision.at;
          retryAt.set(key, decision.at);
        }
        if (decision.type === "dead") {
          await queue.kill(job, { message: decision.message, code: decision.code });
          entries.push({ ...base, outcome: "dead", message: decision.message });
          this.opts.metrics?.jobSettled(this.opts.name, job.kind, "dead");
          log.warn({ jobId: job.id, kind: job.kind, erpRef: job.erpRef, reason: decision.message }, "job parked as dead letter");
        } else {
          await queue.retry(job, decision.at, { message: decision.message, code: decision.code }, decision.countAttempt);
          // A postponement for the same reason as the last one is already on the job's row:
          // one history line per reason, not one per second of a pause or of contention.
          if (decision.countAttempt || job.lastErrorCode !== decision.code)
            entries.push({ ...base, outcome: "retry", message: decision.message });
          this.opts.metrics?.jobSettled(this.opts.name, job.kind, "retry");
          this.lastError = decision.message;
          log.info(
            {
              jobId: job.id,
              kind: job.kind,
              erpRef: job.erpRef,
              attempt: job.attempts,
              retryAt: new Date(decision.at).toISOString(),
              reason: decision.message,
            },
            "job will be retried",
          );
        }
      }
    }
    await queue.complete(done, { zenflowIds });
    await queue.supersedeDead(done.map((j) => j.entityKey).filter((k): k is string => !!k));
    await history.record(entries);
    if (done.length) this.lastActivityAt = clock.now();
  }

  /** The error decides (core/errors): whether it uses an attempt, whether retrying can help, and when. */
  private decideRetry(
    job: QueueJob,
    error: unknown,
  ): { type: "retry"; at: number; message: string; code: string; countAttempt: boolean } | { type: "dead"; message: string; code: string } {
    const now = this.opts.clock.now();
    const policy = retryPolicyOf(error);
    const message = policy.jobMessage;
    const code = policy.jobCode;
    if (!policy.countsAsAttempt) {
      // Not the job's fault, so no attempt is used; but nothing retries forever.
      if (job.deferrals + 1 >= this.opts.maxDeferrals)
        return { type: "dead", message: `Gave up after ${job.deferrals + 1} postponements. Last reason: ${message}`, code };
      return { type: "retry", at: policy.nextAttemptAt(now, job.attempts, this.opts.backoff), message, code, countAttempt: false };
    }
    if (!policy.retryable) return { type: "dead", message, code };
    if (job.attempts >= this.opts.maxAttempts) {
      return { type: "dead", message: `Gave up after ${job.attempts} attempts. Last error: ${message}`, code };
    }
    return { type: "retry", at: policy.nextAttemptAt(now, job.attempts, this.opts.backoff), message, code, countAttempt: true };
  }

  private ensureHeartbeat(): void {
    if (this.heartbeatTimer) return;
    this.heartbeatTimer = setInterval(
      () => {
        if (!this.inFlightTokens.size) return;
        // Ahead of background statements: a lease that lapses while its job runs is work done twice.
        this.opts.queue
          .heartbeat([...this.inFlightTokens])
          .catch((err) => this.opts.log.warn({ err: describeError(err) }, "lease heartbeat failed"));
      },
      Math.max(200, Math.floor(this.opts.leaseMs / 3)),
    );
    this.heartbeatTimer.unref();
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopCtl = new AbortController();
    this.loopDone = this.loop();
  }

  private async loop(): Promise<void> {
    const { clock, log } = this.opts;
    let failures = 0;
    while (this.running) {
      try {
        if (this.opts.gate) {
          const wait = await this.opts.gate.nextAvailableAt();
          if (wait) {
            await this.idle(Math.min(Math.max(50, wait.at - clock.now()), 5000));
            continue;
          }
        }
        const launched = await this.step(true);
        failures = 0;
        // Claim again at once only when a claim came back full (a backlog); otherwise the next
        // step waits for new work, a group's end (both notify), the poll, or the moment a
        // held partial batch must go, so that stepping does not take the plugin's
        // connections from the groups it just started.
        if (!launched.some((g) => g.full)) {
          const untilHeld = this.heldUntil ? Math.max(0, this.heldUntil - clock.now()) : Infinity;
          await this.idle(Math.min(this.opts.pollMs, untilHeld), true);
        }
      } catch (err) {
        // Database trouble (restart, lock timeout): keep the loop alive, back off a little.
        failures++;
        this.lastError = describeError(err);
        log.error({ queue: this.opts.name, err: describeError(err) }, "worker step failed");
        await this.idle(Math.min(30_000, 250 * 2 ** Math.min(failures, 7)));
      }
    }
  }

  /** Sleeps until `ms` passes, the worker stops or (optionally) new work is announced. */
  private async idle(ms: number, wakeOnNotify = false): Promise<void> {
    const { clock } = this.opts;
    if (wakeOnNotify) {
      // A notify that arrived while the last step ran is kept: then there is no sleep at all.
      if (!this.wake.signal.aborted) await clock.sleep(ms, AbortSignal.any([this.wake.signal, this.stopCtl.signal]));
      if (this.wake.signal.aborted && this.running) {
        this.wake = new AbortController();
        // Let the rest of a burst of ERP changes arrive so they share one request.
        await clock.sleep(this.opts.batchWindowMs, this.stopCtl.signal);
      }
    } else {
      await clock.sleep(ms, this.stopCtl.signal);
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    this.stopCtl.abort();
    await this.loopDone;
    this.loopDone = null;
    // Groups still in flight end quickly: the engine's abort signal interrupts their requests.
    await Promise.allSettled([...this.groupsInFlight.values()].flatMap((g) => [...g]));
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }
}
