// Is the rate budget what limits sending? At the pace the shared windows are being used,
// would one of them run out before it resets? When it would, every request is worth
// filling (the worker holds partial batches back for a while, outbox/batch-hold.ts); when
// it would not, a request that leaves half empty costs nothing that matters, and the low
// latency wins. Pure: the same answer for the worker, the plan view and health.
import { type BudgetLimits, type WindowName, WINDOWS, limitFor, windowStart } from "./windows";

export interface WindowPace {
  window: WindowName;
  used: number;
  limit: number;
  /** Epoch ms when the window resets. */
  resetsAt: number;
  /** When the window would be used up at its current pace (null: not before it resets). */
  runsOutAt: number | null;
}

export interface BudgetPace {
  /** Some window would be used up before it resets at the current pace, or was used up a moment ago. */
  short: boolean;
  /** A window seen used up recently: sending was held by the budget until `until` (through the next window). */
  usedUp: { window: WindowName; until: number } | null;
  /** The window that runs out first (null when none does). */
  tightest: WindowPace | null;
  windows: WindowPace[];
}

/**
 * The pace of a window is its use so far over the time it has been open, but over at least
 * an eighth of the window: the first request of a quiet minute says nothing about a burst
 * (a lone order must not wait), the second one within seconds already does.
 */
const MIN_EVIDENCE_SHARE = 1 / 8;

/** How far ahead the demand of the last moments is projected. */
const DEMAND_HORIZON_MS = 3_600_000;

export interface PaceEvidence {
  /**
   * When some process last found a window used up. The use of a window whose requests had to
   * wait for the budget says nothing about the demand (it was capped), so for one more window
   * after that the budget counts as short whatever the pace says.
   */
  usedUp?: { window: WindowName; until: number } | null;
  /**
   * Requests per ms if every job arriving now took a request of its own (the outbox's arrivals
   * of the last minute). Holding lowers the use, so the use alone would flip back to
   * "plentiful" as soon as holding works; the demand does not depend on how it is batched.
   */
  demandPerMs?: number;
}

export function budgetPace(used: Record<WindowName, number>, limits: BudgetLimits, now: number, evidence: PaceEvidence = {}): BudgetPace {
  const demand = Math.max(0, evidence.demandPerMs ?? 0);
  const windows = WINDOWS.map(({ name, ms }): WindowPace => {
    const start = windowStart(now, ms);
    const resetsAt = start + ms;
    const limit = limitFor(name, limits);
    const u = Math.max(0, used[name]);
    const left = limit - u;
    if (left <= 0) return { window: name, used: u, limit, resetsAt, runsOutAt: now };
    // Two estimates of when the window runs out: its own use so far, continued to its reset,
    // and the demand of the last moments, trusted for an hour at most (a burst of ten seconds
    // says little about the rest of the day; a day-long pace shows in the use).
    const byUse = u > 0 ? now + left / (u / Math.max(now - start, ms * MIN_EVIDENCE_SHARE)) : Infinity;
    const byDemand = demand > 0 && left / demand <= DEMAND_HORIZON_MS ? now + left / demand : Infinity;
    const runsOutAt = Math.min(byUse, byDemand);
    return { window: name, used: u, limit, resetsAt, runsOutAt: runsOutAt < resetsAt ? Math.ceil(runsOutAt) : null };
  });
  const running = windows.filter((w) => w.runsOutAt !== null).sort((a, b) => a.runsOutAt! - b.runsOutAt!);
  const usedUp = evidence.usedUp ?? null;
  const recent = usedUp && usedUp.until > now ? usedUp : null;
  return { short: running.length > 0 || !!recent, usedUp: recent, tightest: running[0] ?? null, windows };
}

/** "at the current pace the minute budget … runs out at 10:04:41 UTC, before it resets at 10:05:00 UTC" (health, the plan). */
export function describePace(p: BudgetPace): string {
  const t = p.tightest;
  // A day window's times need the date; a minute's or an hour's read better without it.
  const at = (ms: number, w: WindowName) =>
    `${new Date(ms)
      .toISOString()
      .slice(w === "day" ? 0 : 11, 19)
      .replace("T", " ")} UTC`;
  if (!t && p.usedUp)
    return `the ${p.usedUp.window} budget was used up a moment ago; counted as short until ${at(p.usedUp.until, p.usedUp.window)}`;
  if (!t) return "the rate budget is not what limits sending";
  if (t.used >= t.limit) return `the ${t.window} budget is used (${t.used}/${t.limit}) until ${at(t.resetsAt, t.window)}`;
  return `at the current pace the ${t.window} budget (${t.used}/${t.limit} used) runs out at ${at(t.runsOutAt!, t.window)}, before it resets at ${at(t.resetsAt, t.window)}`;
}
