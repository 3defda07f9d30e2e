import "../support/leak-check";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fullJitterDelay, nextRunAt } from "../../plugin/core/backoff";
import { MINUTE, inBoundaryGuard, windowStart } from "../../plugin/budget/windows";

describe("backoff", () => {
  it("grows exponentially up to the cap, with full jitter between 0 and the bound", () => {
    const policy = { baseMs: 1000, capMs: 60_000 };
    assert.equal(
      fullJitterDelay(1, policy, () => 0.999999),
      999,
    );
    assert.equal(
      fullJitterDelay(4, policy, () => 0.999999),
      7999,
    );
    assert.equal(
      fullJitterDelay(30, policy, () => 0.999999),
      59_999,
    );
    assert.equal(
      fullJitterDelay(5, policy, () => 0),
      0,
    );
  });
  it("never schedules before ZenFlow's Retry-After", () => {
    assert.equal(
      nextRunAt(1000, 1, 31_000, { baseMs: 1000, capMs: 1000 }, () => 0.5),
      31_000,
    );
    assert.equal(
      nextRunAt(1000, 1, undefined, { baseMs: 1000, capMs: 1000 }, () => 0.5),
      1500,
    );
  });
});

describe("rate windows", () => {
  it("are aligned to the epoch", () => {
    assert.equal(windowStart(125_000, MINUTE), 120_000);
  });
  it("refuse tokens in the last moments of a minute", () => {
    assert.equal(inBoundaryGuard(119_800, 250), true);
    assert.equal(inBoundaryGuard(119_700, 250), false);
    assert.equal(inBoundaryGuard(119_800, 0), false);
  });
});
