// The only module that knows Bottleneck (unmaintained; keep it swappable). Bottleneck
// is the in-process pacer: a priority queue with a concurrency cap. Every job it runs
// first takes a token from the shared budget, waiting as long as the budget says.
import Bottleneck from "bottleneck";
import { AbortedError } from "../core/errors";
import type { Clock } from "../core/clock";
import type { SharedBudget } from "./shared-budget";

export interface LimiterOptions {
  budget: SharedBudget;
  clock: Clock;
  maxConcurrent: number;
  signal: AbortSignal;
  /** Upper bound on one sleep while waiting for a token, so pauses set by other processes are seen. */
  maxPollMs?: number;
}

export class RequestLimiter {
  private readonly bottleneck: Bottleneck;
  private readonly opts: LimiterOptions;
  waitingForToken = 0;

  constructor(opts: LimiterOptions) {
    this.opts = opts;
    this.bottleneck = new Bottleneck({ maxConcurrent: opts.maxConcurrent, minTime: 0 });
  }

  /**
   * Runs `fn` at `priority` (0 = first) once a slot and a budget token are available.
   * `reserve` leaves that share of each window to more urgent work (see SharedBudget.tryTake).
   * `fn` learns the instant whose budget windows counted its token (the order timeline shows them).
   */
  schedule<T>(priority: number, fn: (tokenAt: number) => Promise<T>, reserve = 0): Promise<T> {
    if (this.stopped) return Promise.reject(new AbortedError("not sent: the plugin is stopping"));
    return this.bottleneck
      .schedule({ priority: Math.max(0, Math.min(9, priority)) }, async () => {
        return fn(await this.acquireToken(reserve));
      })
      .catch((err: unknown) => {
        // Jobs dropped by stop() are interrupted, not failed: they go back to the queue untouched.
        if (this.stopped && !(err instanceof AbortedError)) throw new AbortedError("not sent: the plugin is stopping", { cause: err });
        throw err;
      });
  }

  private async acquireToken(reserve: number): Promise<number> {
    const { budget, clock, signal } = this.opts;
    const maxPoll = this.opts.maxPollMs ?? 5000;
    this.waitingForToken++;
    try {
      for (;;) {
        if (signal.aborted) throw new AbortedError("not sent: the plugin is stopping");
        const r = await budget.tryTake(reserve);
        if (r.ok) return r.at;
        // A little jitter so processes that wake for the same window do not collide.
        const wait = Math.max(5, Math.min(maxPoll, r.until - clock.now())) + Math.floor(Math.random() * 20);
        await clock.sleep(wait, signal);
      }
    } finally {
      this.waitingForToken--;
    }
  }

  queued(): number {
    const c = this.bottleneck.counts();
    return (c.QUEUED ?? 0) + (c.RECEIVED ?? 0);
  }

  private stopped = false;

  async stop(): Promise<void> {
    this.stopped = true;
    await this.bottleneck.stop({ dropWaitingJobs: true }).catch(() => undefined);
  }
}
