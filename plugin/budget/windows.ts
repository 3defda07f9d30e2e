// Fixed rate windows aligned to the epoch (UTC), as ZenFlow's X-RateLimit-Reset
// (a Unix time at which "the limit resets") suggests. Pure functions.
export const MINUTE = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;

export type WindowName = "minute" | "hour" | "day";
export const WINDOWS: { name: WindowName; ms: number }[] = [
  { name: "minute", ms: MINUTE },
  { name: "hour", ms: HOUR },
  { name: "day", ms: DAY },
];

export interface BudgetLimits {
  perMinute: number;
  perHour: number;
  perDay: number;
}

/** What a server reports about the current window of a rate limit (X-RateLimit-* headers). */
export interface RateLimitInfo {
  limit: number;
  remaining: number;
  /** Epoch ms when the reported window resets. */
  resetAt: number;
}

export function windowStart(now: number, ms: number): number {
  return Math.floor(now / ms) * ms;
}

export function limitFor(name: WindowName, limits: BudgetLimits): number {
  return name === "minute" ? limits.perMinute : name === "hour" ? limits.perHour : limits.perDay;
}

/**
 * A request granted in the last moments of a window may reach ZenFlow after the
 * window turned and count in the next one. Not granting tokens in the last
 * `guardMs` of a minute keeps a full next window from overflowing by the one
 * request that was still on the wire. Hour and day boundaries are minute boundaries.
 */
export function inBoundaryGuard(now: number, guardMs: number): boolean {
  return guardMs > 0 && MINUTE - (now % MINUTE) <= guardMs;
}
