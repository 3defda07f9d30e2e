// The high-water mark of a reconciliation that walks ERP records by `updatedSince`. It moves
// forward to the newest `updatedAt` seen, minus an overlap (a slow ERP transaction may commit
// an older updatedAt late), and never past the present: one record dated 2099 must not push
// the mark into the future, where every later lost change would fall behind it.
import { iso } from "../core/clock";
import type { KvKey, KvStore } from "../core/kv-store";

/** Re-read a little before the last high-water mark. */
export const OVERLAP_MS = 5 * 60_000;

/** True when a record last changed at or before the moment its dead letter died. */
export function unchangedSince(updatedAt: unknown, diedAt: number | undefined): boolean {
  if (diedAt === undefined) return false;
  const t = typeof updatedAt === "string" ? Date.parse(updatedAt) : NaN;
  return !Number.isFinite(t) || t <= diedAt;
}

export class SinceCursor {
  private highWater: number;

  private constructor(
    readonly since: string,
    private readonly now: number,
  ) {
    this.highWater = Date.parse(since);
  }

  /** The stored mark (never later than the present), or `now - firstLookbackMs` on the first run. */
  static async open(state: KvStore, key: KvKey<string>, now: number, firstLookbackMs: number): Promise<SinceCursor> {
    const stored = await state.get(key);
    const at = stored !== null && Number.isFinite(Date.parse(stored)) ? Date.parse(stored) : now - firstLookbackMs;
    return new SinceCursor(iso(Math.min(at, now)), now);
  }

  /** Notes a record's updatedAt; anything later than the start of this run counts as "now". */
  see(updatedAt: unknown): void {
    if (typeof updatedAt !== "string") return;
    const t = Date.parse(updatedAt);
    if (Number.isFinite(t)) this.highWater = Math.max(this.highWater, Math.min(t, this.now));
  }

  /** The mark to store after a complete run: never behind `since`, never in the future. */
  next(): string {
    return iso(Math.max(Date.parse(this.since), this.highWater - OVERLAP_MS));
  }
}
