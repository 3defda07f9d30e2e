// The pure halves of budget-aware batching: when the budget counts as short (budget/pace.ts)
// and what the worker does with a partial batch then (outbox/batch-hold.ts).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { budgetPace, describePace } from "../../plugin/budget/pace";
import { MINUTE } from "../../plugin/budget/windows";
import { decideBatch, partialTail } from "../../plugin/outbox/batch-hold";

const LIMITS = { perMinute: 60, perHour: 1000, perDay: 10_000 };
// 2026-12-02 10:04:00 UTC plus an offset into the minute.
const at = (ms: number) => Date.UTC(2026, 11, 2, 10, 4, 0) + ms;
const none = { minute: 0, hour: 0, day: 0 };

describe("budget pace", () => {
  it("a quiet budget is plentiful; the first request of a minute is not yet a pace", () => {
    assert.equal(budgetPace(none, LIMITS, at(1000)).short, false);
    assert.equal(budgetPace({ minute: 1, hour: 1, day: 1 }, LIMITS, at(500)).short, false);
  });

  it("a minute used at a pace that runs out before it resets is short, and says when", () => {
    const p = budgetPace({ minute: 40, hour: 40, day: 40 }, LIMITS, at(20_000));
    assert.equal(p.short, true);
    assert.equal(p.tightest?.window, "minute");
    assert.equal(p.tightest?.runsOutAt, at(30_000), "20 left at 2 per second");
    assert.match(describePace(p), /minute budget \(40\/60 used\) runs out at 10:04:30 UTC, before it resets at 10:05:00 UTC/);
  });

  it("a used-up window and the minute after it count as short", () => {
    const used = budgetPace({ minute: 60, hour: 60, day: 60 }, LIMITS, at(59_000));
    assert.equal(used.short, true);
    const later = budgetPace(none, LIMITS, at(MINUTE + 5_000), { usedUp: { window: "minute", until: at(2 * MINUTE) } });
    assert.equal(later.short, true, "the use of a capped window says nothing about the demand");
    assert.equal(budgetPace(none, LIMITS, at(2 * MINUTE + 1), { usedUp: { window: "minute", until: at(2 * MINUTE) } }).short, false);
  });

  it("the demand of the last moments makes it short even while holding keeps the use low", () => {
    // 120 jobs a minute arriving, each one a request if sent alone: the hour's 1,000 go in ~8 minutes.
    const p = budgetPace({ minute: 2, hour: 2, day: 2 }, LIMITS, at(30_000), { demandPerMs: 120 / MINUTE });
    assert.equal(p.short, true);
    assert.equal(p.tightest?.window, "minute");
    // One order a minute is nothing to the budget.
    assert.equal(budgetPace({ minute: 1, hour: 1, day: 1 }, LIMITS, at(30_000), { demandPerMs: 1 / MINUTE }).short, false);
    // A burst is not extrapolated over a whole day: 6 a minute would use a day's 10,000 only after 27 hours.
    assert.equal(budgetPace(none, LIMITS, at(30_000), { demandPerMs: 6 / MINUTE }).short, false);
  });
});

describe("batch hold decision", () => {
  const base = { fullBatch: 50, claimLimit: 200, holdMs: 5000, now: at(10_000) };
  it("plentiful budget: claim everything due at once", () => {
    assert.deepEqual(decideBatch({ ...base, budgetShort: false, due: { count: 3, oldestDueAt: at(9_990) } }), {
      action: "claim",
      limit: 200,
      wholeBatches: false,
      why: "plentiful",
    });
  });
  it("short budget: a partial batch is held until its oldest job has waited the bound", () => {
    assert.deepEqual(decideBatch({ ...base, budgetShort: true, due: { count: 12, oldestDueAt: at(8_000) } }), {
      action: "hold",
      until: at(13_000),
    });
    assert.equal(decideBatch({ ...base, budgetShort: true, due: { count: 12, oldestDueAt: at(5_000) } }).action, "claim");
  });
  it("short budget: whole batches go, the partial rest stays", () => {
    assert.deepEqual(decideBatch({ ...base, budgetShort: true, due: { count: 130, oldestDueAt: at(9_000) } }), {
      action: "claim",
      limit: 100,
      wholeBatches: true,
      why: "full",
    });
    assert.equal(partialTail(87, 50), 37);
    assert.equal(partialTail(100, 50), 0);
  });
  it("nothing due, or holding switched off", () => {
    assert.deepEqual(decideBatch({ ...base, budgetShort: true, due: { count: 0, oldestDueAt: null } }), { action: "none" });
    assert.equal(decideBatch({ ...base, holdMs: 0, budgetShort: true, due: { count: 1, oldestDueAt: at(9_999) } }).action, "claim");
  });
});
