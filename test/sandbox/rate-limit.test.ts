// Rate limiting with an injected clock: fixed windows, headers, Retry-After, the
// Retry-After block and the budget report.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startSandbox, type Sandbox } from "../../dev/sandbox/index";
import { call } from "./helpers";

describe("sandbox rate limits", () => {
  let sb: Sandbox;
  const t0 = Date.UTC(2024, 0, 15, 10, 0, 10); // 10 s into a minute
  let now = t0;
  const minuteEnd = (t0 - 10_000 + 60_000) / 1000;
  const hourEnd = Date.UTC(2024, 0, 15, 11, 0, 0) / 1000;

  before(async () => {
    sb = await startSandbox({
      now: () => now,
      limits: { perMinute: 3, perHour: 5, perDay: 100 },
      retryAfterGraceMs: 50,
      keys: [
        { key: "zenflow_test_sandbox", scopes: ["admin"] },
        { key: "zenflow_test_second", scopes: ["admin"] },
      ],
    });
  });
  after(() => sb.close());

  const headers = (r: { headers: Headers }) => [
    r.headers.get("x-ratelimit-limit"),
    r.headers.get("x-ratelimit-remaining"),
    r.headers.get("x-ratelimit-reset"),
  ];

  it("counts per key in fixed windows, answers 429 with Retry-After and records violations", async () => {
    const r1 = await call(sb, "GET", "/orders");
    assert.equal(r1.status, 200);
    assert.deepEqual(headers(r1), ["3", "2", String(minuteEnd)]);
    assert.deepEqual(headers(await call(sb, "GET", "/orders")), ["3", "1", String(minuteEnd)]);
    // An error answer counts too (and carries the headers).
    const r3 = await call(sb, "GET", "/orders/999");
    assert.equal(r3.status, 404);
    assert.deepEqual(headers(r3), ["3", "0", String(minuteEnd)]);

    const r4 = await call(sb, "GET", "/orders");
    assert.equal(r4.status, 429);
    assert.equal(r4.headers.get("retry-after"), "50");
    assert.deepEqual(r4.body, {
      success: false,
      error: { code: "rate_limit_exceeded", message: "Rate limit exceeded. Try again in 50 seconds." },
    });
    assert.deepEqual(headers(r4), ["3", "0", String(minuteEnd)]);

    // Another key is not affected.
    assert.equal((await call(sb, "GET", "/orders", { key: "zenflow_test_second" })).status, 200);

    now = t0 + 10; // still in flight: tolerated
    assert.equal((await call(sb, "GET", "/orders")).status, 429);
    now = t0 + 5_000; // the client ignored Retry-After
    const r6 = await call(sb, "GET", "/orders");
    assert.equal(r6.status, 429);
    assert.equal(r6.headers.get("retry-after"), "45");

    now = t0 + 50_000; // block over, new minute; the 429s did not count
    const r7 = await call(sb, "GET", "/orders");
    assert.equal(r7.status, 200);
    assert.deepEqual(headers(r7), ["5", "1", String(hourEnd)], "hour window now has the fewest remaining");
    assert.equal((await call(sb, "GET", "/orders")).status, 200);
    const r9 = await call(sb, "GET", "/orders");
    assert.equal(r9.status, 429);
    assert.equal(r9.headers.get("retry-after"), String(hourEnd - (t0 + 50_000) / 1000));

    const report = sb.budgetReport();
    assert.deepEqual(report["dbox"], {
      requests: 9,
      maxPerMinuteWindow: 6,
      maxPerHourWindow: 9,
      maxPerDayWindow: 9,
      maxInAnySliding60s: 9,
      limit429s: 4,
      injected429s: 0,
      retryAfterViolations: [{ at: t0 + 5_000, path: "/api/v1/orders", blockedUntil: t0 + 50_000 }],
    });
    assert.equal(report["cond"]!.requests, 1);
    assert.equal(report["cond"]!.retryAfterViolations.length, 0);
  });

  it("treats an injected 429 like a real one for the Retry-After check", async () => {
    sb.reset();
    now = t0 + 3_600_000;
    sb.failNext(1, "429", { retryAfterSeconds: 2 });
    const r = await call(sb, "POST", "/orders", { body: {} });
    assert.equal(r.status, 429);
    assert.equal(r.headers.get("retry-after"), "2");
    assert.ok(r.headers.get("x-ratelimit-limit"));
    now += 1_000;
    assert.equal((await call(sb, "GET", "/orders")).status, 429);
    now += 1_000;
    assert.equal((await call(sb, "GET", "/orders")).status, 200);
    const b = sb.budgetReport()["dbox"]!;
    assert.equal(b.injected429s, 2);
    assert.equal(b.limit429s, 0);
    assert.equal(b.retryAfterViolations.length, 1);
    assert.equal(sb.requests()[0]!.fault, "429");
  });
});
