// Issue #10 item 2, the parsing itself: every form of Retry-After and X-RateLimit-Reset a
// server may send, and what the plugin makes of it (capped, or unknown).
import "../support/leak-check";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseRateLimit, parseReset, retryAfterMs } from "../../plugin/zenflow/http";

const NOW = Date.UTC(2026, 11, 5, 12, 0, 0);
const HOUR = 3_600_000;
const h = (o: Record<string, string>) => new Headers(o);

describe("server-supplied delays", () => {
  it("Retry-After: seconds and HTTP dates are honoured up to the cap; anything else is unknown", () => {
    const table: [string, number][] = [
      ["0", 0],
      ["30", 30_000],
      [" 45 ", 45_000],
      ["3600", HOUR],
      ["3601", HOUR],
      ["99999999999", HOUR],
      [new Date(NOW + 120_000).toUTCString(), 120_000],
      ["Saturday, 05-Dec-26 12:02:00 GMT", 120_000],
      ["Sat Dec  5 12:02:00 2026", 120_000],
      [new Date(NOW - 120_000).toUTCString(), 0],
      [new Date(NOW + 400 * 86_400_000).toUTCString(), HOUR],
      // Unknown: the fallback (no reset header here) is 30 s.
      ["1e20", 30_000],
      ["-5", 30_000],
      ["1.5", 1500],
      ["soon", 30_000],
      ["", 30_000],
      ["12abc", 30_000],
      ["2026-12-05T12:02:00Z", 30_000],
      ["99999999999999999999", 30_000],
    ];
    for (const [value, expected] of table)
      assert.equal(retryAfterMs(h({ "retry-after": value }), NOW, null), expected, JSON.stringify(value));
    assert.equal(retryAfterMs(h({ "retry-after": "600" }), NOW, null, 60_000), 60_000, "the setting is the cap");
  });

  it("X-RateLimit-Reset: Unix seconds, Unix milliseconds or seconds from now; never more than the cap ahead", () => {
    const table: [string, number | null][] = [
      [String(NOW / 1000 + 90), NOW + 90_000],
      [String(NOW + 90_000), NOW + 90_000],
      ["90", NOW + 90_000],
      [String(NOW / 1000 + 86_000), NOW + HOUR],
      [String(NOW / 1000 + 300 * 86_400), null],
      ["1e30", null],
      ["-1", null],
      ["abc", null],
      ["", null],
    ];
    for (const [value, expected] of table) assert.equal(parseReset(value, NOW), expected, JSON.stringify(value));
  });

  it("rate-limit headers with nonsense counts are ignored as a whole", () => {
    assert.deepEqual(parseRateLimit(h({ "x-ratelimit-limit": "60", "x-ratelimit-remaining": "5", "x-ratelimit-reset": "30" }), NOW), {
      limit: 60,
      remaining: 5,
      resetAt: NOW + 30_000,
    });
    for (const remaining of ["-1", "1e3", "x", "61"])
      assert.equal(parseRateLimit(h({ "x-ratelimit-limit": "60", "x-ratelimit-remaining": remaining }), NOW), null, remaining);
    assert.equal(
      parseRateLimit(h({ "x-ratelimit-limit": "60", "x-ratelimit-remaining": "5", "x-ratelimit-reset": "soon" }), NOW)?.resetAt,
      0,
    );
  });
});
