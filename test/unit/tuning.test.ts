import "../support/leak-check";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { tuningFromEnv } from "../../plugin/core/tuning";

describe("ZENFLOW_TUNING", () => {
  it("takes valid timings", () => {
    assert.deepEqual(tuningFromEnv('{"leaseMs":5000,"debounceMs":{"product":0}}'), {
      tuning: { leaseMs: 5000, debounceMs: { product: 0 } },
      warning: null,
    });
    assert.deepEqual(tuningFromEnv(undefined), { tuning: {}, warning: null });
  });
  it("ignores anything malformed, with a warning that says why", () => {
    assert.match(tuningFromEnv("{nope").warning!, /not valid JSON/);
    assert.match(tuningFromEnv('{"leaseMs":5}').warning!, /leaseMs Too small/);
    assert.match(tuningFromEnv('{"apiKey":"x"}').warning!, /Unrecognized key/);
    assert.deepEqual(tuningFromEnv('{"leaseMs":5}').tuning, {});
  });
});
