// Whether the worker claims a kind's due jobs now or holds a partial batch back. While the
// rate budget is short (budget/pace.ts), a request that leaves with 12 orders instead of 50
// spends a token that a later, fuller request needed: the worker then claims whole batches
// only, and a partial one waits until it fills or until its oldest job has waited
// `holdMs`. While the budget is plentiful nothing is held: the lowest latency wins. Pure,
// so that the plan view shows exactly what the worker will do.

export interface DueSummary {
  /** Due jobs of the kind, counted up to the claim limit. */
  count: number;
  /** When the longest-waiting of them became due (epoch ms), null when none is due. */
  oldestDueAt: number | null;
}

export interface BatchHoldInput {
  due: DueSummary;
  /** Jobs one request carries when full (orders per request, products or stock rows per request). */
  fullBatch: number;
  /** Most jobs one claim takes. */
  claimLimit: number;
  /** Longest a due job is held for a fuller batch (0: never held). */
  holdMs: number;
  /** The rate budget is what limits sending. */
  budgetShort: boolean;
  now: number;
}

export type BatchDecision =
  | { action: "none" }
  /** Claim up to `limit`; with `wholeBatches`, a partial batch left over by a race with another process goes back. */
  | { action: "claim"; limit: number; wholeBatches: boolean; why: "plentiful" | "full" | "waited" }
  | { action: "hold"; until: number };

export function decideBatch(input: BatchHoldInput): BatchDecision {
  const { due, fullBatch, claimLimit, holdMs, budgetShort, now } = input;
  if (due.count <= 0 || due.oldestDueAt === null) return { action: "none" };
  if (!budgetShort || holdMs <= 0 || fullBatch <= 1) return { action: "claim", limit: claimLimit, wholeBatches: false, why: "plentiful" };
  // The bound is the promise: nothing waits for company longer than this.
  if (now - due.oldestDueAt >= holdMs) return { action: "claim", limit: claimLimit, wholeBatches: false, why: "waited" };
  const whole = Math.floor(Math.min(due.count, claimLimit) / fullBatch) * fullBatch;
  if (whole > 0) return { action: "claim", limit: whole, wholeBatches: true, why: "full" };
  return { action: "hold", until: due.oldestDueAt + holdMs };
}

/** How many of `claimed` jobs go back when only whole batches may leave (the youngest ones). */
export function partialTail(claimed: number, fullBatch: number): number {
  return fullBatch > 1 ? claimed % fullBatch : 0;
}
