// Per-key rate limiting (docs §4: 60/min, 1000/h, 10000/day) with fixed windows
// aligned to the epoch, the Retry-After block that follows every 429, and the
// budget report that tells whether a client stayed within its budget and
// honoured Retry-After.
import type { BudgetReport, KeyBudget, RateLimits, RetryAfterViolation } from "./types";

const WINDOW_MS = [60_000, 3_600_000, 86_400_000] as const;

interface FixedCounter {
  idx: number;
  count: number;
}

function bump(c: FixedCounter, idx: number): number {
  if (c.idx !== idx) {
    c.idx = idx;
    c.count = 0;
  }
  return ++c.count;
}

function current(c: FixedCounter, idx: number): number {
  return c.idx === idx ? c.count : 0;
}

function counters(): FixedCounter[] {
  return WINDOW_MS.map(() => ({ idx: -1, count: 0 }));
}

class KeyTraffic {
  /** What the limiter counts: requests not answered 429. */
  readonly counted = counters();
  /** What the client sent: every authenticated request, for the budget report. */
  readonly arrivals = counters();
  readonly maxArrivals = WINDOW_MS.map(() => 0);
  private sliding: number[] = [];
  private slidingHead = 0;
  maxSliding = 0;
  requests = 0;
  limit429s = 0;
  injected429s = 0;
  readonly violations: RetryAfterViolation[] = [];
  blockedUntil = 0;
  blockStart = 0;
  blockOrigin: "limit" | "injected" = "limit";

  recordArrival(now: number): void {
    this.requests++;
    WINDOW_MS.forEach((ms, i) => {
      const n = bump(this.arrivals[i]!, Math.floor(now / ms));
      if (n > this.maxArrivals[i]!) this.maxArrivals[i] = n;
    });
    // Sliding 60 s window over arrivals: (now - 60000, now].
    this.sliding.push(now);
    while (this.slidingHead < this.sliding.length && this.sliding[this.slidingHead]! <= now - 60_000) this.slidingHead++;
    this.maxSliding = Math.max(this.maxSliding, this.sliding.length - this.slidingHead);
    if (this.slidingHead > 4096) {
      this.sliding = this.sliding.slice(this.slidingHead);
      this.slidingHead = 0;
    }
  }
}

export type Admission = { ok: true } | { ok: false; retryAfter: number; reason: "blocked" | "limit" };

export interface RateHeaders {
  limit: number;
  remaining: number;
  reset: number;
}

export class RateLimiter {
  private traffic = new Map<string, KeyTraffic>();

  constructor(
    private limits: RateLimits,
    private readonly graceMs: number,
  ) {}

  setLimits(l: RateLimits): void {
    for (const v of [l.perMinute, l.perHour, l.perDay]) {
      if (!Number.isInteger(v) || v < 0) throw new Error("Rate limits must be non-negative integers");
    }
    this.limits = { perMinute: l.perMinute, perHour: l.perHour, perDay: l.perDay };
  }

  getLimits(): RateLimits {
    return { ...this.limits };
  }

  /**
   * Records the arrival and decides whether the request may proceed. A refusal
   * (Retry-After block still running, or a window exhausted) is a 429 that does not
   * count against the windows.
   */
  admit(label: string, now: number, path: string): Admission {
    const t = this.for(label);
    t.recordArrival(now);
    if (now < t.blockedUntil) {
      // Requests already in flight when the 429 went out are tolerated for graceMs.
      if (now > t.blockStart + this.graceMs) t.violations.push({ at: now, path, blockedUntil: t.blockedUntil });
      if (t.blockOrigin === "limit") t.limit429s++;
      else t.injected429s++;
      return { ok: false, reason: "blocked", retryAfter: Math.max(1, Math.ceil((t.blockedUntil - now) / 1000)) };
    }
    const limits = this.limitArray();
    let waitMs = -1;
    WINDOW_MS.forEach((ms, i) => {
      const idx = Math.floor(now / ms);
      if (current(t.counted[i]!, idx) >= limits[i]!) waitMs = Math.max(waitMs, (idx + 1) * ms - now);
    });
    if (waitMs < 0) return { ok: true };
    const retryAfter = Math.max(1, Math.ceil(waitMs / 1000));
    this.block(t, now, retryAfter, "limit");
    t.limit429s++;
    return { ok: false, reason: "limit", retryAfter };
  }

  /** Counts an admitted request once in every window. */
  count(label: string, now: number): void {
    const t = this.for(label);
    WINDOW_MS.forEach((ms, i) => bump(t.counted[i]!, Math.floor(now / ms)));
  }

  /** An injected 429 blocks the key exactly like a real one. */
  injected429(label: string, now: number, retryAfterSeconds: number): void {
    const t = this.for(label);
    this.block(t, now, retryAfterSeconds, "injected");
    t.injected429s++;
  }

  /** Headers for the window with the fewest remaining requests (tie → shortest window). */
  headers(label: string, now: number): RateHeaders {
    const t = this.for(label);
    const limits = this.limitArray();
    let best: RateHeaders | undefined;
    for (let i = 0; i < WINDOW_MS.length; i++) {
      const ms = WINDOW_MS[i]!;
      const idx = Math.floor(now / ms);
      const remaining = Math.max(0, limits[i]! - current(t.counted[i]!, idx));
      // Strict "<" keeps the shorter window on ties.
      if (!best || remaining < best.remaining) best = { limit: limits[i]!, remaining, reset: ((idx + 1) * ms) / 1000 };
    }
    return best!;
  }

  report(): BudgetReport {
    const out: BudgetReport = {};
    for (const [label, t] of this.traffic) {
      const b: KeyBudget = {
        requests: t.requests,
        maxPerMinuteWindow: t.maxArrivals[0]!,
        maxPerHourWindow: t.maxArrivals[1]!,
        maxPerDayWindow: t.maxArrivals[2]!,
        maxInAnySliding60s: t.maxSliding,
        limit429s: t.limit429s,
        injected429s: t.injected429s,
        retryAfterViolations: t.violations.map((v) => ({ ...v })),
      };
      out[label] = b;
    }
    return out;
  }

  reset(): void {
    this.traffic = new Map();
  }

  private block(t: KeyTraffic, now: number, retryAfterSeconds: number, origin: "limit" | "injected"): void {
    t.blockStart = now;
    t.blockedUntil = now + retryAfterSeconds * 1000;
    t.blockOrigin = origin;
  }

  private limitArray(): number[] {
    return [this.limits.perMinute, this.limits.perHour, this.limits.perDay];
  }

  private for(label: string): KeyTraffic {
    let t = this.traffic.get(label);
    if (!t) {
      t = new KeyTraffic();
      this.traffic.set(label, t);
    }
    return t;
  }
}
