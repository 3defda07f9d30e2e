// Whether one more request may take a token at an instant, and if not, until when it must
// wait: the rule the shared budget applies on every take (shared-budget.ts) and the plan view
// applies to every request it foresees (admin/send-plan.ts). Pure, so the two cannot disagree.
import { Priority } from "../jobs/priorities";
import { type BudgetLimits, type WindowName, MINUTE, WINDOWS, inBoundaryGuard, limitFor, windowStart } from "./windows";

/** Tokens already counted in each window that contains the instant. */
export type WindowUse = Record<WindowName, number>;

export interface AdmissionInput {
  at: number;
  used: WindowUse;
  limits: BudgetLimits;
  /** Share of each window kept for more urgent work (bulk kinds pass 0.2). */
  reserve?: number;
  pausedUntil?: number;
  pauseReason?: string | null;
  guardMs: number;
}

export type Admission = { ok: true } | { ok: false; until: number; reason: string };

/**
 * The share of every window a request at this priority leaves to more urgent ones: bulk
 * catalog work and checks leave a fifth to orders, cancels and stock.
 */
export function reserveFor(priority: number): number {
  return priority >= Priority.product ? 0.2 : 0;
}

/** The limit a take with this reserve may reach (at least 1). */
export function reservedCap(limit: number, reserve: number): number {
  return reserve > 0 ? Math.max(1, Math.floor(limit * (1 - reserve))) : limit;
}

export function admission(i: AdmissionInput): Admission {
  let until = 0;
  let reason = "";
  if ((i.pausedUntil ?? 0) > i.at) {
    until = i.pausedUntil!;
    reason = i.pauseReason ?? "paused";
  }
  for (const w of WINDOWS) {
    const start = windowStart(i.at, w.ms);
    const full = limitFor(w.name, i.limits);
    const limit = reservedCap(full, i.reserve ?? 0);
    const used = i.used[w.name];
    if (used >= limit && start + w.ms > until) {
      until = start + w.ms;
      reason = limit < full ? `${w.name} budget kept for orders (${used}/${full})` : `${w.name} budget used (${used}/${full})`;
    }
  }
  if (until > i.at) return { ok: false, until, reason };
  if (inBoundaryGuard(i.at, i.guardMs)) return { ok: false, until: windowStart(i.at, MINUTE) + MINUTE, reason: "window boundary" };
  return { ok: true };
}
