// Budget-aware batching (issue #13 item 2). While the shared rate budget, at its current
// pace, would run out before its window resets, the running worker sends whole batches only
// and a partial one waits until it fills or has waited the setting's bound; while the
// budget is plentiful a lone order leaves at once. Real databases, the sandbox over HTTP,
// the workers' own loops (not runOnce): what the admin's processes do.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { RequestLogEntry } from "../../dev/sandbox";
import { HOUR, MINUTE, windowStart } from "../../plugin/budget/windows";
import { newOrder, newProduct } from "../support/builders";
import { testDbKinds } from "../support/db";
import { scaledClock } from "../support/fast-clock";
import { type ErpProcess, type Stack, eventually, startStack } from "../support/stack";

const BATCH = 50;
const worker = (p: ErpProcess) => p.plugin.runtime()!.engine!.worker;
const creates = (s: Stack): RequestLogEntry[] =>
  s.sandbox.requests().filter((r) => r.method === "POST" && r.path.endsWith("/orders") && r.status !== null && r.status < 300);
const sizes = (s: Stack) => creates(s).map((r) => (r.body as { orders: unknown[] }).orders.length);
const tenants = (r: RequestLogEntry) => (r.body as { orders: { order_tenant_id: string }[] }).orders.map((o) => o.order_tenant_id);

/**
 * A clock at real speed (or faster) that starts `offsetMs` into an hour, so a test never
 * straddles a minute or an hour by accident. (Close to an hour's end, tokens that would
 * expire unused rightly go on partial requests.)
 */
function alignedClock(factor: number, offsetMs: number) {
  return scaledClock(factor, windowStart(Date.now(), HOUR) + HOUR + offsetMs);
}

for (const kind of testDbKinds()) {
  describe(`budget-aware batching [${kind}]`, () => {
    it("a lone order under a plentiful budget is sent at once, not held for company", async () => {
      const clock = alignedClock(1, 5_000);
      const stack = await startStack(kind, {
        sandbox: { now: clock.now },
        plugin: { clock },
        // A bound of five minutes: an order that was held could not arrive within this test.
        config: { batchHoldSeconds: 300, orderBatchSize: BATCH },
      });
      try {
        const t0 = clock.now();
        await stack.main.host.erp.createOrder(newOrder(810_001));
        await eventually(async () => stack.sandbox.orders().length === 1, 20_000, "the order reached ZenFlow");
        const waited = creates(stack)[0]!.at - t0;
        assert.ok(waited < 20_000, `sent after ${waited} ms, far below the 300 s bound`);
        assert.deepEqual(sizes(stack), [1]);
      } finally {
        await stack.close();
      }
    });

    it("while the budget is short a partial batch waits to fill, and a lone order waits at most the bound", async () => {
      const clock = alignedClock(1, 2_000);
      const stack = await startStack(kind, {
        sandbox: { now: clock.now, limits: { perMinute: 10, perHour: 100_000, perDay: 1_000_000 } },
        plugin: { clock },
        // A bound long enough that 49 more orders are created within it on a loaded machine.
        config: { batchHoldSeconds: 10, orderBatchSize: BATCH, rateLimitPerMinute: 10 },
      });
      try {
        // This minute already used 6 of its 10 requests in its first 2 s (other processes, an
        // import): at that pace it runs out long before it resets.
        const now = clock.now();
        await stack.db
          .knex("zenflow_budget")
          .update({ minute_start: windowStart(now, MINUTE), minute_used: 6, hour_start: windowStart(now, 3_600_000), hour_used: 6 });
        const erp = stack.main.host.erp;
        await erp.createOrder(newOrder(820_000));
        await new Promise((r) => setTimeout(r, 1_000));
        assert.equal(creates(stack).length, 0, "the first order waits for company");
        for (let i = 1; i < BATCH; i++) await erp.createOrder(newOrder(820_000 + i));
        await eventually(async () => stack.sandbox.orders().length === BATCH, 10_000, "the full batch reached ZenFlow");
        assert.deepEqual(sizes(stack), [BATCH], "one request carried all 50");

        // Alone and still short: it leaves once it has waited the bound (10 s), not before.
        const t1 = clock.now();
        await erp.createOrder(newOrder(820_100));
        await eventually(async () => stack.sandbox.orders().length === BATCH + 1, 30_000, "the lone order reached ZenFlow");
        const waited = creates(stack)[1]!.at - t1;
        assert.ok(waited >= 10_000, `held ${waited} ms, at least the 10 s bound`);
        assert.ok(waited < 10_000 + MINUTE, `held ${waited} ms, at most the bound plus one window`);
        assert.deepEqual(sizes(stack), [BATCH, 1]);
      } finally {
        await stack.close();
      }
    });

    it("while a partial batch is held, an edit and a cancellation of orders ZenFlow has leave at once (they never share a request)", async () => {
      const clock = alignedClock(1, 2_000);
      const stack = await startStack(kind, {
        sandbox: { now: clock.now, limits: { perMinute: 10, perHour: 100_000, perDay: 1_000_000 } },
        plugin: { clock, autoStart: false },
        config: { batchHoldSeconds: 30, orderBatchSize: BATCH, rateLimitPerMinute: 10 },
      });
      try {
        const erp = stack.main.host.erp;
        const edited = await erp.createOrder(newOrder(825_001));
        const cancelled = await erp.createOrder(newOrder(825_002));
        await stack.drain();
        const now = clock.now();
        await stack.db
          .knex("zenflow_budget")
          .update({ minute_start: windowStart(now, MINUTE), minute_used: 6, hour_start: windowStart(now, HOUR), hour_used: 6 });
        const mark = stack.sandbox.requests().length;
        worker(stack.main).start();
        await erp.createOrder(newOrder(825_100));
        await erp.updateOrder(edited.id, { shipByDate: "2026-06-30" });
        await erp.cancelOrder(cancelled.id, "customer cancelled");
        const sent = () =>
          stack.sandbox
            .requests()
            .slice(mark)
            .filter((r) => r.status !== null && r.status < 300);
        await eventually(
          async () => sent().some((r) => r.method === "PUT") && sent().some((r) => r.path.endsWith("/cancel")),
          10_000,
          "the edit and the cancellation reached ZenFlow",
        );
        assert.equal(stack.sandbox.order(edited.number)!.assembly_date, "2026-06-30");
        assert.equal(stack.sandbox.order(cancelled.number)!.state_name, "Cancelled");
        assert.deepEqual(
          sent().filter((r) => r.method === "POST" && r.path.endsWith("/orders")),
          [],
          "the new order still waits for company (30 s bound)",
        );
      } finally {
        await stack.close();
      }
    });

    it("stock levels are held the same way: a partial bulk request waits to fill while the budget is short", async () => {
      const clock = alignedClock(1, 2_000);
      const stack = await startStack(kind, {
        sandbox: { now: clock.now, limits: { perMinute: 10, perHour: 100_000, perDay: 1_000_000 } },
        plugin: { clock, autoStart: false },
        config: { batchHoldSeconds: 20, rateLimitPerMinute: 10, stockSource: "erp", locationMap: { main: "LOC-A1" } },
      });
      try {
        const erp = stack.main.host.erp;
        const products = [];
        for (let i = 0; i < 100; i++) products.push(await erp.createProduct(newProduct(840_000 + i)));
        await stack.drain();
        const now = clock.now();
        await stack.db
          .knex("zenflow_budget")
          .update({ minute_start: windowStart(now, MINUTE), minute_used: 6, hour_start: windowStart(now, HOUR), hour_used: 6 });
        const bulk = () => stack.sandbox.requests().filter((r) => r.path.endsWith("/stock/bulk") && r.status !== null && r.status < 300);
        worker(stack.main).start();
        for (const [i, p] of products.slice(0, 40).entries())
          await erp.setStock({ sku: p.sku, locationId: "main", quantity: i + 1, reason: "count" });
        await new Promise((r) => setTimeout(r, 1_000));
        assert.equal(bulk().length, 0, "40 levels wait for company");
        for (const [i, p] of products.slice(40).entries())
          await erp.setStock({ sku: p.sku, locationId: "main", quantity: 41 + i, reason: "count" });
        await eventually(async () => bulk().length === 1, 15_000, "the full bulk request");
        assert.equal((bulk()[0]!.body as { updates: unknown[] }).updates.length, 100, "one request carried all 100 levels");
      } finally {
        await stack.close();
      }
    });

    for (const processes of [1, 3]) {
      it(`a burst under a tight budget goes out in full batches, ${processes} process(es)`, async () => {
        // Ten times real speed: 6 requests a minute and 360 an hour is a tight budget for a
        // burst of 400 orders arriving as fast as the ERP writes them, even on a loaded CI
        // machine (the demand counts as short above about 1.2 orders per real second; at
        // 60/min, and once at 20/min, a slowed ERP rightly got partial requests mid-burst).
        // The scaled clock starts at an hour: away from the end of an hour, where tokens that
        // would expire unused rightly go on partial requests.
        const clock = alignedClock(10, 1_000);
        const N = 400;
        const stack = await startStack(kind, {
          processes,
          sandbox: { now: clock.now, limits: { perMinute: 6, perHour: 360, perDay: 1_000_000 } },
          plugin: { clock, autoStart: false, boundaryGuardMs: 1000, leaseMs: 600_000, pollMs: 1000 },
          // A bound shorter than the minute of arrivals the decision weighs: the tail waits the
          // bound, not until the burst has left the demand's look-back.
          config: { orderBatchSize: BATCH, batchWindowMs: 25, batchHoldSeconds: 30, rateLimitPerMinute: 6, rateLimitPerHour: 360 },
        });
        try {
          for (const p of stack.procs) worker(p).start();
          const created = new Map<string, number>();
          await Promise.all(
            stack.procs.map(async (p, k) => {
              for (let i = k; i < N; i += processes) {
                const o = newOrder(830_000 + i);
                created.set(String(o.number), clock.now());
                await p.host.erp.createOrder(o);
              }
            }),
          );
          await eventually(async () => stack.sandbox.orders().length === N, 60_000, "every order reached ZenFlow");
          const all = creates(stack).flatMap(tenants);
          assert.equal(all.length, N, "no order sent twice");
          assert.equal(new Set(all).size, N);
          // A request leaves partial only early in the burst (its orders all created in the
          // first 10 s, before three arrivals within 10 s can show that the budget is short), or
          // once its oldest order has waited the bound. How often the bound is reached depends
          // on how fast this machine's ERP writes orders; bench/orders-per-request.ts measures it.
          const HOLD = 30_000;
          const burstStart = Math.min(...created.values());
          const sent = creates(stack);
          sent.forEach((r, i) => {
            const ts = tenants(r);
            if (ts.length >= BATCH || ts.every((t) => created.get(t)! < burstStart + 10_000)) return;
            const oldest = Math.max(...ts.map((t) => r.at - created.get(t)!));
            assert.ok(oldest >= HOLD, `request ${i + 1} of ${sent.length} left with ${ts.length} orders, oldest waiting ${oldest} ms`);
          });
          // No order waited longer than the bound plus one window (plugin time), plus the
          // requests' own time on the wire and a loaded machine's stalls (times ten).
          const longest = Math.max(...sent.flatMap((r) => tenants(r).map((t) => r.at - created.get(t)!)));
          assert.ok(longest <= HOLD + MINUTE + 60_000, `longest wait ${Math.round(longest / 1000)} s`);
        } finally {
          await stack.close();
        }
      });
    }
  });
}
