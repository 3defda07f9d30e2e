// Fault injection: every kind, precedence of failNext, seeded reproducibility.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { startSandbox, type Sandbox } from "../../dev/sandbox/index";
import { call, order } from "./helpers";

describe("sandbox faults", () => {
  let sb: Sandbox;
  before(async () => {
    sb = await startSandbox({ seed: 42 });
  });
  beforeEach(() => sb.reset());
  after(() => sb.close());

  const lastEntry = () => {
    const all = sb.requests();
    return all[all.length - 1]!;
  };

  it("5xx answers an error and does nothing", async () => {
    sb.failNext(1, "5xx", { path: /\/orders$/, method: "POST" });
    const r = await call(sb, "POST", "/orders", { body: order("F-1") });
    assert.equal(r.status, 500);
    assert.equal(r.body.error.code, "internal_error");
    assert.equal(sb.orders().length, 0);
    assert.equal(lastEntry().fault, "5xx");
    // Consumed: the retry goes through.
    assert.equal((await call(sb, "POST", "/orders", { body: order("F-1") })).status, 201);
  });

  it("reset drops the connection and does nothing", async () => {
    sb.failNext(1, "reset");
    await assert.rejects(call(sb, "POST", "/orders", { body: order("F-2") }));
    assert.equal(sb.orders().length, 0);
    const entry = await settled(lastEntry().seq);
    assert.equal(entry.status, null);
    assert.equal(entry.fault, "reset");
  });

  it("reset-after runs the handler (the order exists) but the answer is lost", async () => {
    sb.failNext(1, "reset-after", { method: "POST" });
    await assert.rejects(call(sb, "POST", "/orders", { body: order("F-3") }));
    assert.equal(sb.orders().length, 1, "created although the client saw a dead socket");
    assert.equal(sb.order("F-3")!.state_name, "Pending");
    assert.equal((await settled(lastEntry().seq)).status, null);
    // The client's retry is idempotent thanks to order_tenant_id.
    const retry = await call(sb, "POST", "/orders", { body: order("F-3") });
    assert.equal(retry.body.data.orders[0].status, "existing");
  });

  it("hang holds the request without answering, then drops it; nothing done", async () => {
    sb.failNext(1, "hang", { hangMs: 150 });
    const t = Date.now();
    await assert.rejects(call(sb, "POST", "/orders", { body: order("F-4") }));
    assert.ok(Date.now() - t >= 140, "held for hangMs");
    assert.equal(sb.orders().length, 0);
    // A client timeout ends it earlier.
    sb.failNext(1, "hang");
    await assert.rejects(call(sb, "GET", "/orders", { signal: AbortSignal.timeout(100) }));
  });

  it("429 is injected with the configured Retry-After", async () => {
    sb.failNext(1, "429", { retryAfterSeconds: 3 });
    const r = await call(sb, "GET", "/orders");
    assert.equal(r.status, 429);
    assert.equal(r.headers.get("retry-after"), "3");
    assert.equal(r.body.error.code, "rate_limit_exceeded");
    assert.equal(sb.budgetReport()["dbox"]!.injected429s, 1);
  });

  it("latency delays the answer; setLatency delays every request", async () => {
    sb.failNext(1, "latency", { latencyMs: 120 });
    let t = Date.now();
    assert.equal((await call(sb, "GET", "/orders")).status, 200);
    assert.ok(Date.now() - t >= 110);
    assert.equal(lastEntry().fault, "latency");
    sb.setLatency(60);
    t = Date.now();
    await call(sb, "GET", "/orders");
    assert.ok(Date.now() - t >= 55);
  });

  it("probabilistic faults are reproducible for a seed, and failNext takes precedence", async () => {
    const run = async (s: Sandbox) => {
      s.setFaults({ rate: 0.5, kinds: ["5xx", "429"], retryAfterSeconds: 0, path: /\/orders/ });
      const statuses: number[] = [];
      for (let i = 0; i < 16; i++) statuses.push((await call(s, "GET", "/orders")).status);
      return statuses;
    };
    const other = await startSandbox({ seed: 42 });
    try {
      const a = await run(sb);
      const b = await run(other);
      assert.deepEqual(a, b);
      assert.ok(a.some((s) => s === 200) && a.some((s) => s !== 200), `mixed outcomes: ${a.join(",")}`);
      assert.equal((await call(sb, "GET", "/products")).status, 200, "path filter respected");
      sb.setFaults({ rate: 1, kinds: ["429"], retryAfterSeconds: 0 });
      sb.failNext(1, "5xx");
      assert.equal((await call(sb, "GET", "/orders")).status, 500);
      sb.setFaults(null);
      assert.equal((await call(sb, "GET", "/orders")).status, 200);
    } finally {
      await other.close();
    }
  });

  /**
   * The log entry `seq` once the sandbox is done with it: its status is written on the server's
   * "close" event, just after the client sees the error. A later request answered by the same
   * server comes after that event, so the entry cannot change any more.
   */
  async function settled(seq: number) {
    assert.equal((await call(sb, "GET", "/orders")).status, 200);
    return sb.requests().find((e) => e.seq === seq)!;
  }
});
