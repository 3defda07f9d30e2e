// The rate budget every ERP process shares through the database. Taking a token is one
// atomic UPDATE that only succeeds while no pause is in force and all three windows
// (minute, hour, day) have room, so the processes together never exceed ZenFlow's budget.
import type { Knex } from "knex";
import type { Clock } from "../core/clock";
import { affected, insertIfAbsent, num, numOrNull, rawAffected } from "../core/dialect";
import { kvKey } from "../core/kv-store";
import { AUTH_PAUSE_MS } from "../core/errors";
import {
  type BudgetLimits,
  type RateLimitInfo,
  type WindowName,
  HOUR,
  MINUTE,
  DAY,
  WINDOWS,
  inBoundaryGuard,
  limitFor,
  windowStart,
} from "./windows";
import { Table } from "../core/tables";
import { type BudgetPace, budgetPace } from "./pace";
import { type WindowUse, admission, reservedCap } from "./admission";

const TABLE = Table.budget;

/** The limits a running plugin uses for a key, published for readers without the settings (the CLI). */
export const budgetLimitsKey = (keyId: string) => kvKey<BudgetLimits>(`budget:limits:${keyId}`);

/** Why no token now, and when to ask again. */
export type Refusal = { ok: false; until: number; reason: string };
/** A token: `at` is the instant whose minute, hour and day windows counted it. */
export type TakeResult = { ok: true; at: number } | Refusal;

export interface BudgetSnapshot {
  limits: BudgetLimits;
  used: { minute: number; hour: number; day: number };
  resets: { minute: number; hour: number; day: number };
  pausedUntil: number;
  pauseReason: string | null;
  authError: string | null;
  authFailedAt: number | null;
  lastRequestAt: number | null;
  lastSuccessAt: number | null;
}

export interface SharedBudgetOptions {
  db: Knex;
  keyId: string;
  limits: BudgetLimits;
  clock: Clock;
  boundaryGuardMs?: number;
  /** The longest pause a server may impose (setting "Longest pause ZenFlow may ask for"); default 1 hour. */
  maxPauseMs?: number;
}

/** Whatever a row says, no reader shows or waits for a pause longer than this (rows from older versions). */
export const PAUSE_READ_MAX_MS = 86_400_000;

export class SharedBudget {
  readonly keyId: string;
  readonly limits: BudgetLimits;
  private readonly db: Knex;
  private readonly clock: Clock;
  /** No token is granted this close to a minute's end (windows.ts inBoundaryGuard). */
  readonly guardMs: number;
  private readonly maxPauseMs: number;
  private lastSuccessWrite = 0;
  /** The last window this process found used up, counted as short through the next window (pace.ts). */
  private usedUp: { window: WindowName; until: number } | null = null;

  constructor(opts: SharedBudgetOptions) {
    this.db = opts.db;
    this.keyId = opts.keyId;
    this.limits = opts.limits;
    this.clock = opts.clock;
    this.guardMs = opts.boundaryGuardMs ?? 250;
    this.maxPauseMs = opts.maxPauseMs ?? 3_600_000;
  }

  /** Creates the row if needed, and shortens a stored pause longer than the cap (old data, an earlier setting). */
  async ensureRow(): Promise<void> {
    const now = this.clock.now();
    await insertIfAbsent(this.db, TABLE, { key_id: this.keyId, updated_at: now }, ["key_id"]);
    await this.db(TABLE)
      .where({ key_id: this.keyId })
      .andWhere("paused_until", ">", now + this.maxPauseMs)
      .update({ paused_until: now + this.maxPauseMs, updated_at: now });
  }

  /**
   * One statement: takes a token from all three windows, or from none. `reserve` (0..1) keeps
   * that share of every window for more urgent work: bulk catalog work passes 0.2 so that
   * an import never leaves new orders waiting for the next window.
   */
  async tryTake(reserve = 0): Promise<TakeResult> {
    const now = this.clock.now();
    if (inBoundaryGuard(now, this.guardMs)) return { ok: false, until: windowStart(now, MINUTE) + MINUTE, reason: "window boundary" };
    const m = windowStart(now, MINUTE);
    const h = windowStart(now, HOUR);
    const d = windowStart(now, DAY);
    const cap = (limit: number) => reservedCap(limit, reserve);
    // Assignment order matters on MySQL (it evaluates SET left to right with new values):
    // each *_used is computed before its *_start changes.
    const result = await this.db.raw(
      `UPDATE ${TABLE} SET
         minute_used = CASE WHEN minute_start = ? THEN minute_used + 1 ELSE 1 END, minute_start = ?,
         hour_used = CASE WHEN hour_start = ? THEN hour_used + 1 ELSE 1 END, hour_start = ?,
         day_used = CASE WHEN day_start = ? THEN day_used + 1 ELSE 1 END, day_start = ?,
         last_request_at = ?, updated_at = ?
       WHERE key_id = ? AND paused_until <= ?
         AND (minute_start <> ? OR minute_used < ?)
         AND (hour_start <> ? OR hour_used < ?)
         AND (day_start <> ? OR day_used < ?)`,
      [m, m, h, h, d, d, now, now, this.keyId, now, m, cap(this.limits.perMinute), h, cap(this.limits.perHour), d, cap(this.limits.perDay)],
    );
    if (rawAffected(result) === 1) {
      // The token counts in the windows of `now`, read before the statement. If the statement
      // ran late (a slow database, a wait for one of the plugin's connections) the request
      // would leave in a later window, or in the last moments of this one, than it was counted
      // in: give the token back and let the caller take a fresh one.
      const after = this.clock.now();
      if (windowStart(after, MINUTE) !== m || inBoundaryGuard(after, this.guardMs)) {
        await this.refund(m, h, d);
        return { ok: false, until: after, reason: "token taken too late for its window; retrying" };
      }
      return { ok: true, at: now };
    }
    const why = await this.whyNot(now, reserve);
    // The row changed between the two statements (a pause lifted, a window rolled over): no
    // token was taken, so the caller must try again rather than send uncounted.
    return why.ok ? { ok: false, until: now, reason: "budget row changed; retrying" } : why;
  }

  /** Gives back a token taken in these windows (the counts never go below zero). */
  private async refund(m: number, h: number, d: number): Promise<void> {
    await this.db.raw(
      `UPDATE ${TABLE} SET
         minute_used = CASE WHEN minute_start = ? AND minute_used > 0 THEN minute_used - 1 ELSE minute_used END,
         hour_used = CASE WHEN hour_start = ? AND hour_used > 0 THEN hour_used - 1 ELSE hour_used END,
         day_used = CASE WHEN day_start = ? AND day_used > 0 THEN day_used - 1 ELSE day_used END
       WHERE key_id = ?`,
      [m, h, d, this.keyId],
    );
  }

  /** When the next token can be had (without taking it), or null if now. */
  async nextAvailableAt(): Promise<{ at: number; reason: string } | null> {
    const now = this.clock.now();
    const r = await this.whyNot(now);
    return r.ok ? null : { at: r.until, reason: r.reason };
  }

  /** The windows' pace (budget/pace.ts): whether the budget, not ZenFlow, limits sending. */
  async pace(demand?: { arrivalsPerMs: number }): Promise<BudgetPace> {
    const snap = await this.snapshot();
    return budgetPace(snap.used, this.limits, this.clock.now(), { usedUp: this.usedUp, demandPerMs: demand?.arrivalsPerMs ?? 0 });
  }

  /** For the worker: while this is true, partial batches wait to fill. */
  async budgetShort(demand?: { arrivalsPerMs: number }): Promise<boolean> {
    return (await this.pace(demand)).short;
  }

  private async whyNot(now: number, reserve = 0): Promise<{ ok: true } | Refusal> {
    const row = await this.db(TABLE).where({ key_id: this.keyId }).first();
    if (!row) {
      await this.ensureRow();
      return { ok: false, until: now, reason: "initialising" };
    }
    const used = {} as WindowUse;
    for (const w of WINDOWS) {
      const start = windowStart(now, w.ms);
      used[w.name] = num(row[`${w.name}_start`]) === start ? num(row[`${w.name}_used`]) : 0;
      if (used[w.name] >= limitFor(w.name, this.limits) && (this.usedUp?.until ?? 0) < start + 2 * w.ms)
        this.usedUp = { window: w.name, until: start + 2 * w.ms };
    }
    return admission({
      at: now,
      used,
      limits: this.limits,
      reserve,
      pausedUntil: num(row.paused_until),
      pauseReason: row.pause_reason ?? null,
      guardMs: this.guardMs,
    });
  }

  /** Records a pause every process honours (Retry-After, exhausted window). Never shortens one; never longer than the cap. */
  async pause(requested: number, reason: string): Promise<void> {
    const until = Math.min(requested, this.clock.now() + this.maxPauseMs);
    await this.db(TABLE)
      .where({ key_id: this.keyId })
      .andWhere("paused_until", "<", until)
      .update({ paused_until: until, pause_reason: reason.slice(0, 250), updated_at: this.clock.now() });
  }

  /** Pauses sending for every process until one request may probe the key again; returns when. */
  async recordAuthFailure(message: string): Promise<number> {
    const now = this.clock.now();
    await this.db(TABLE)
      .where({ key_id: this.keyId })
      .update({ auth_error: message, auth_failed_at: now, paused_until: now + AUTH_PAUSE_MS, pause_reason: "auth", updated_at: now });
    return now + AUTH_PAUSE_MS;
  }

  /** Clears an auth failure after a successful call (throttled: at most one write per 5 s per process). */
  async recordSuccess(): Promise<void> {
    const now = this.clock.now();
    if (now - this.lastSuccessWrite < 5000) return;
    this.lastSuccessWrite = now;
    await this.db(TABLE).where({ key_id: this.keyId }).update({ last_success_at: now, auth_error: null, auth_failed_at: null });
  }

  /** Lifts an auth pause (the admin fixed the key and the connection test passed). */
  async clearAuthPause(): Promise<void> {
    await this.db(TABLE)
      .where({ key_id: this.keyId, pause_reason: "auth" })
      .update({ paused_until: 0, pause_reason: null, auth_error: null, auth_failed_at: null });
  }

  /**
   * ZenFlow's X-RateLimit-* headers describe the key's real usage, which includes other
   * clients of the same key. When they say less is left than we think, raise our count
   * (never lower it: a stale answer must not hand out extra tokens). Remaining 0 pauses
   * everyone until the reported reset.
   */
  async observe(rate: RateLimitInfo): Promise<void> {
    const now = this.clock.now();
    const w = this.windowOf(rate, now);
    if (!w) return;
    const limit = limitFor(w.name, this.limits);
    const usedByHeader = Math.max(0, limit - rate.remaining);
    const start = windowStart(now, w.ms);
    if (rate.remaining <= 0 && rate.resetAt > now) {
      await this.pause(rate.resetAt, `ZenFlow reports the ${w.name} budget used`);
    }
    await this.db(TABLE)
      .where({ key_id: this.keyId, [`${w.name}_start`]: start })
      .andWhere(`${w.name}_used`, "<", usedByHeader)
      .update({ [`${w.name}_used`]: usedByHeader });
  }

  /** Which window a header set describes: by its reset time, which must be the current window's end. */
  private windowOf(rate: RateLimitInfo, now: number): { name: "minute" | "hour" | "day"; ms: number } | null {
    if (!rate.resetAt) return null;
    for (const w of WINDOWS) {
      const end = windowStart(now, w.ms) + w.ms;
      if (Math.abs(rate.resetAt - end) <= 1500) return w;
    }
    return null;
  }

  async snapshot(): Promise<BudgetSnapshot> {
    const row = (await this.db(TABLE).where({ key_id: this.keyId }).first()) ?? {};
    return budgetSnapshot(row, this.limits, this.clock.now());
  }
}

/**
 * Lifts every pause ZenFlow asked for (Retry-After, a used-up reset), for every key, at once:
 * the admin's "Resume sending now". An auth pause stays (Test connection or a new key lifts
 * it). Returns how many rows were paused. The windows' counts stay, so the budget still holds.
 */
export async function resumeSending(db: Knex, now: number): Promise<number> {
  const n = await db(TABLE)
    .where("paused_until", ">", now)
    .andWhere((q) => q.whereNull("pause_reason").orWhereNot("pause_reason", "auth"))
    .update({ paused_until: 0, pause_reason: null, updated_at: now });
  return affected(n);
}

/** A budget row as of `now`: a window whose start has passed counts as unused. */
export function budgetSnapshot(row: Record<string, unknown>, limits: BudgetLimits, now: number): BudgetSnapshot {
  const used = (name: "minute" | "hour" | "day", ms: number) =>
    num(row[`${name}_start`]) === windowStart(now, ms) ? num(row[`${name}_used`]) : 0;
  const text = (v: unknown) => (v == null ? null : String(v));
  return {
    limits,
    used: { minute: used("minute", MINUTE), hour: used("hour", HOUR), day: used("day", DAY) },
    resets: {
      minute: windowStart(now, MINUTE) + MINUTE,
      hour: windowStart(now, HOUR) + HOUR,
      day: windowStart(now, DAY) + DAY,
    },
    // Clamped on read as well: a row from an older version may say "until the year 5000".
    pausedUntil: Math.min(num(row.paused_until), now + PAUSE_READ_MAX_MS),
    pauseReason: text(row.pause_reason),
    authError: text(row.auth_error),
    authFailedAt: numOrNull(row.auth_failed_at),
    lastRequestAt: numOrNull(row.last_request_at),
    lastSuccessAt: numOrNull(row.last_success_at),
  };
}
