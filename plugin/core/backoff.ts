// Retry timing (pure). Full jitter: a random delay between 0 and an exponentially growing
// cap, so that many jobs failing together do not retry together.
export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 1000, capMs: 2 * 60 * 60 * 1000 };

/** Delay before attempt number `attempt + 1` (attempt counts from 1). */
export function fullJitterDelay(attempt: number, policy: BackoffPolicy = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const exp = Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, Math.min(attempt - 1, 40)));
  return Math.floor(random() * exp);
}

/** The next run time: never before ZenFlow's Retry-After, otherwise the jittered backoff. */
export function nextRunAt(
  now: number,
  attempt: number,
  notBefore: number | undefined,
  policy?: BackoffPolicy,
  random?: () => number,
): number {
  return Math.max(notBefore ?? 0, now + fullJitterDelay(attempt, policy, random));
}
