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
  /** Some window would be used up before it resets, at the current pace. */
  short: boolean;
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

export function budgetPace(used: Record<WindowName, number>, limits: BudgetLimits, now: number): BudgetPace {
  const windows = WINDOWS.map(({ name, ms }): WindowPace => {
    const start = windowStart(now, ms);
    const resetsAt = start + ms;
    const limit = limitFor(name, limits);
    const u = Math.max(0, used[name]);
    const left = limit - u;
    if (left <= 0) return { window: name, used: u, limit, resetsAt, runsOutAt: now };
    const perMs = u / Math.max(now - start, ms * MIN_EVIDENCE_SHARE);
    const runsOutAt = perMs > 0 ? now + left / perMs : Infinity;
    return { window: name, used: u, limit, resetsAt, runsOutAt: runsOutAt < resetsAt ? Math.ceil(runsOutAt) : null };
  });
  const running = windows.filter((w) => w.runsOutAt !== null).sort((a, b) => a.runsOutAt! - b.runsOutAt!);
  return { short: running.length > 0, tightest: running[0] ?? null, windows };
}

/** "at the current pace the minute budget … runs out at 10:04:41 UTC, before it resets at 10:05:00 UTC" (health, the plan). */
export function describePace(p: BudgetPace): string {
  const t = p.tightest;
  if (!t) return "the rate budget is not what limits sending";
  // A day window's times need the date; a minute's or an hour's read better without it.
  const at = (ms: number) =>
    new Date(ms)
      .toISOString()
      .slice(t.window === "day" ? 0 : 11, 19)
      .replace("T", " ") + " UTC";
  if (t.used >= t.limit) return `the ${t.window} budget is used (${t.used}/${t.limit}) until ${at(t.resetsAt)}`;
  return `at the current pace the ${t.window} budget (${t.used}/${t.limit} used) runs out at ${at(t.runsOutAt!)}, before it resets at ${at(t.resetsAt)}`;
}
