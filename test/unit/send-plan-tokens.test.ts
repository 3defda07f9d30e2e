// The plan view's token foresight (admin/send-plan.ts assignTokens) applies the shared
// budget's admission rule request by request, in the limiter's priority order.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { assignTokens } from "../../plugin/admin/send-plan";
import { DAY, HOUR, MINUTE } from "../../plugin/budget/windows";
import { Priority } from "../../plugin/jobs/priorities";

const T0 = Date.UTC(2026, 11, 4, 10, 0, 0); // an hour and a day boundary
const limits = { perMinute: 60, perHour: 1_000, perDay: 10_000 };
const budget = (used: Partial<Record<"minute" | "hour" | "day", number>> = {}, pausedUntil = 0) => ({
  limits,
  used: { minute: 0, hour: 0, day: 0, ...used },
  pausedUntil,
  pauseReason: pausedUntil ? "Retry-After" : null,
});
const reqs = (n: number, priority: number = Priority.order, notBefore = T0) =>
  Array.from({ length: n }, () => ({ priority, notBefore, at: null as number | null }));
const minuteOf = (at: number | null) => Math.floor((at! - T0) / MINUTE);

describe("assignTokens", () => {
  it("fills what is left of this minute, then the next minutes, 60 each", () => {
    const r = reqs(130);
    assert.equal(assignTokens(r, budget({ minute: 55, hour: 55, day: 55 }), 0, T0 + 1_000), false);
    const perMinute = [0, 1, 2, 3].map((m) => r.filter((x) => minuteOf(x.at) === m).length);
    assert.deepEqual(perMinute, [5, 60, 60, 5]);
    assert.equal(r[0]!.at, T0 + 1_000, "the first leaves now");
    assert.equal(r[5]!.at, T0 + MINUTE, "the sixth at the next minute's start");
  });

  it("the hour's budget moves the rest to the next hour", () => {
    const r = reqs(10);
    assignTokens(r, budget({ minute: 0, hour: 995, day: 995 }), 0, T0 + 10 * MINUTE);
    assert.equal(r.filter((x) => x.at! < T0 + HOUR).length, 5);
    assert.equal(r[5]!.at, T0 + HOUR);
  });

  it("orders go before products even when the products were ready first, and products leave a fifth of each minute", () => {
    const products = reqs(60, Priority.product, T0);
    const orders = reqs(20, Priority.order, T0 + 5_000);
    const r = [...products, ...orders];
    assignTokens(r, budget(), 0, T0);
    // Products alone until the orders are ready at 5 s: they take 48 of the minute's 60 (a
    // fifth is kept for orders, cancels and stock), then the 20 orders take the 12 kept and
    // go first in the next minute, ahead of the 12 products still waiting.
    assert.equal(products.filter((x) => minuteOf(x.at) === 0).length, 48);
    assert.deepEqual(
      [0, 1].map((m) => orders.filter((x) => minuteOf(x.at) === m).length),
      [12, 8],
    );
    assert.ok(orders.slice(0, 12).every((x) => x.at === T0 + 5_000));
    assert.equal(products.filter((x) => minuteOf(x.at) === 1).length, 12);
  });

  it("waits out a pause and never grants a token in the boundary guard", () => {
    const r = reqs(2);
    assignTokens(r, budget({}, T0 + 30_000), 250, T0);
    assert.equal(r[0]!.at, T0 + 30_000, "not before the pause ends");
    const late = reqs(1);
    assignTokens(late, budget(), 250, T0 + MINUTE - 100);
    assert.equal(late[0]!.at, T0 + MINUTE, "the last 250 ms of a minute are skipped");
  });

  it("a day's backlog beyond the day's budget goes on the next day", () => {
    const r = reqs(3);
    assignTokens(r, budget({ minute: 0, hour: 0, day: 10_000 }), 0, T0 + 10 * HOUR);
    assert.equal(r[0]!.at, Math.floor((T0 + 10 * HOUR) / DAY) * DAY + DAY, "the next UTC day");
  });
});
