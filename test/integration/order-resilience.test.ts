// Issue #2 acceptance: faults, restarts, crashes, bad keys and lost events never lose or
// duplicate an order; no request is sent inside a Retry-After window; secrets stay secret.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { JobQueue } from "../../plugin/outbox/queue";
import { testDbKinds } from "../support/db";
import { createInZenflowByHand } from "../support/hand-made-order";
import { fastClock } from "../support/fast-clock";
import { eventually, SANDBOX_KEY, startStack } from "../support/stack";
import { newOrder } from "../support/builders";

async function outboxStatus(stack: { db: { knex: import("knex").Knex } }) {
  const rows: { status: string; n: unknown }[] = await stack.db.knex("zenflow_outbox").select("status").count({ n: "*" }).groupBy("status");
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

for (const kind of testDbKinds()) {
  describe(`order sync resilience [${kind}]`, () => {
    it("with 30% injected faults and a restart mid-burst, every order lands exactly once and Retry-After is honoured", async () => {
      const stack = await startStack(kind, {
        // Grace for requests already on the wire when a 429 goes out: the sandbox stamps a
        // request when its handler runs, in this same process. 250 ms (the chaos run's figure)
        // was passed by 51 ms once with the machine at load 4.8 on its 2 cores; a pause that
        // does not hold sends throughout the 1 s window, which 500 ms still catches.
        sandbox: { seed: 7, retryAfterGraceMs: 500 },
        config: { orderBatchSize: 20, requestTimeoutMs: 1000 },
      });
      try {
        stack.sandbox.setFaults({ rate: 0.3, kinds: ["5xx", "hang", "reset", "reset-after", "429"], hangMs: 1500, retryAfterSeconds: 1 });
        const erp = stack.main.host.erp;
        const orders = [];
        for (let i = 1; i <= 200; i++) {
          orders.push(await erp.createOrder(newOrder(10_000 + i)));
          if (i === 100) {
            // Stop the plugin mid-burst (in-flight requests are abandoned) and start it again.
            await stack.main.host.disable();
            await stack.main.host.enable();
          }
        }
        await eventually(() => stack.sandbox.orders().length === 200, 60_000, "all 200 orders in ZenFlow");
        stack.sandbox.setFaults(null);
        // Every job settled as sent (a reconciliation may add a no-op job for an order in flight).
        await eventually(async () => Object.keys(await outboxStatus(stack)).join() === "done", 30_000, "outbox settled");

        const zf = stack.sandbox.orders();
        assert.equal(new Set(zf.map((o) => o.order_tenant_id)).size, 200);
        const maps = await stack.db.knex("zenflow_id_map").where({ entity_type: "order" });
        assert.equal(maps.length, 200);
        for (const m of maps) assert.equal(String(stack.sandbox.order(m.erp_ref)!.id), String(m.zenflow_id));
        assert.deepEqual(Object.keys(await outboxStatus(stack)), ["done"]);

        const report = Object.values(stack.sandbox.budgetReport())[0]!;
        assert.deepEqual(report.retryAfterViolations, [], "no request inside a Retry-After window");
        assert.ok(report.injected429s > 0, "the run did see 429s");
        const faults = stack.sandbox.requests().filter((r) => r.fault);
        assert.ok(faults.length >= 5, `faults injected: ${faults.length}`);
      } finally {
        await stack.close();
      }
    });

    it("an order ZenFlow already had (an earlier answer was lost) is brought up to the ERP's header", async () => {
      const stack = await startStack(kind, { plugin: { autoStart: false } });
      try {
        const erp = stack.main.host.erp;
        const o = await erp.createOrder(newOrder(21_001));
        // An earlier attempt reached ZenFlow with an older header; its answer never came back.
        await createInZenflowByHand(stack, o.number);
        await stack.drain();
        const z = stack.sandbox.order(o.number)!;
        assert.equal(stack.sandbox.orders().filter((x) => x.order_tenant_id === o.number).length, 1);
        assert.equal(z.assembly_date, "2026-03-01", "ZenFlow now has the ERP's ship-by date");
        assert.equal(z.shipping_address, "Street 21001, Buenos Aires, CABA C1000, AR");
        const binding = await stack.db.knex("zenflow_id_map").where({ entity_type: "order", erp_id: o.id }).first();
        assert.equal(String(binding.zenflow_id), String(z.id));
        assert.ok(binding.payload_hash, "the header ZenFlow now has is recorded");
      } finally {
        await stack.close();
      }
    });

    it("a crashed worker's claimed jobs are picked up by another after the lease expires", async () => {
      // Time moves only when the test says: the lease expires on clock.advance(), not after a sleep.
      const clock = fastClock();
      const stack = await startStack(kind, { plugin: { autoStart: false, leaseMs: 300, clock } });
      try {
        const erp = stack.main.host.erp;
        const o = await erp.createOrder(newOrder(20_001));
        // Another process claims the job and dies before sending it.
        await stack.main.plugin.runtime()!.parts.eventLog.route();
        const ghost = new JobQueue({
          db: stack.db.knex,
          table: "zenflow_outbox",
          activeKey: true,
          clock,
          workerId: "ghost",
          leaseMs: 300,
        });
        const claimed = await ghost.claim(10);
        assert.equal(claimed.length, 1);
        const engine = stack.main.plugin.runtime()!.engine!;
        assert.equal(await engine.worker.runOnce(), 0, "nothing to claim while the lease holds");
        clock.advance(350);
        await stack.drain();
        assert.ok(stack.sandbox.order(o.number));
        const row = await stack.db
          .knex("zenflow_outbox")
          .where({ entity_key: `order:${o.id}` })
          .first();
        assert.equal(row.status, "done");
        assert.equal(Number(row.attempts), 2, "the crashed attempt counts");
      } finally {
        await stack.close();
      }
    });

    it("starts unconfigured without throwing, records orders, and sends them once configured", async () => {
      const stack = await startStack(kind, { configure: false, plugin: { autoStart: false } });
      try {
        const health = await stack.main.host.health();
        assert.equal(health.status, "unconfigured");
        assert.match(health.message!, /No ZenFlow API key is set/);
        const o = await stack.main.host.erp.createOrder(newOrder(30_001));
        assert.equal(stack.sandbox.requests().length, 0);
        const saved = await stack.main.host.saveConfig(stack.config);
        assert.deepEqual(saved, { ok: true });
        await eventually(() => stack.main.plugin.runtime()?.engine, 5000, "engine started after config change");
        await stack.drain();
        assert.ok(stack.sandbox.order(o.number));
        assert.equal((await stack.main.host.health()).status, "ok");
      } finally {
        await stack.close();
      }
    });

    it("a rejected API key pauses sending, turns health down, keeps the orders, and recovers with a good key", async () => {
      const wrongKey = "zenflow_live_WRONG_KEY_0123456789";
      const stack = await startStack(kind, { plugin: { autoStart: false }, config: { apiKey: wrongKey } });
      try {
        const erp = stack.main.host.erp;
        const a = await erp.createOrder(newOrder(40_001));
        const b = await erp.createOrder(newOrder(40_002));
        await stack.drain();
        await stack.drain();
        assert.equal(stack.sandbox.orders().length, 0);
        assert.equal(stack.sandbox.requests().length, 1, "one refused request, then sending is paused");
        assert.deepEqual(await outboxStatus(stack), { pending: 2 });
        const health = await stack.main.host.health();
        assert.equal(health.status, "down");
        assert.match(health.message!, /ZenFlow rejected the API key at \d\d:\d\d UTC — sending paused/);
        const test = await stack.main.host.runAction("test-connection");
        assert.equal(test.ok, false);
        assert.match(test.message, /does not recognise this API key/);

        assert.deepEqual(await stack.main.host.saveConfig({ ...stack.config, apiKey: SANDBOX_KEY }), { ok: true });
        await eventually(() => stack.main.plugin.runtime()?.config?.apiKey === SANDBOX_KEY, 5000, "new key applied");
        await stack.drain();
        assert.ok(stack.sandbox.order(a.number) && stack.sandbox.order(b.number));

        // The wrong key never appears in logs, stored errors, health or action answers.
        const stored = JSON.stringify([
          await stack.db.knex("zenflow_outbox").select("last_error"),
          await stack.db.knex("zenflow_history").select("message"),
          await stack.db.knex("zenflow_budget").select(),
          await stack.db.knex("zenflow_state").select(),
        ]);
        const places = { logs: stack.main.log.dump(), stored, health: JSON.stringify(health), action: JSON.stringify(test) };
        for (const [where, text] of Object.entries(places)) {
          assert.ok(!text.includes(wrongKey), `wrong key leaked in ${where}`);
          assert.ok(
            !text.includes(SANDBOX_KEY),
            `good key leaked in ${where}: ${text.slice(Math.max(0, text.indexOf(SANDBOX_KEY) - 200), text.indexOf(SANDBOX_KEY) + 50)}`,
          );
        }
      } finally {
        await stack.close();
      }
    });

    it("reports each test-connection failure precisely", async () => {
      const stack = await startStack(kind, { plugin: { autoStart: false } });
      try {
        const host = stack.main.host;
        assert.deepEqual({ ok: (await host.runAction("test-connection")).ok }, { ok: true });
        stack.sandbox.addKey({ key: "zenflow_live_expired_key_1", scopes: ["admin"], status: "expired" });
        stack.sandbox.addKey({ key: "zenflow_live_noscope_key_1", scopes: ["read:products"] });
        const cases: [Record<string, unknown>, RegExp][] = [
          [{ apiKey: "zenflow_live_expired_key_1" }, /has expired/],
          [{ apiKey: "zenflow_live_noscope_key_1" }, /lacks the scope read:orders/],
          [{ baseUrl: "http://127.0.0.1:9/api/v1" }, /Cannot reach ZenFlow at http:\/\/127.0.0.1:9\/api\/v1/],
        ];
        for (const [patch, expected] of cases) {
          await host.saveConfig({ ...stack.config, ...patch });
          await eventually(
            () => JSON.stringify(stack.main.plugin.runtime()?.config ?? {}).includes(String(Object.values(patch)[0])),
            5000,
            "config applied",
          );
          const r = await host.runAction("test-connection");
          assert.equal(r.ok, false);
          assert.match(r.message, expected);
        }
      } finally {
        await stack.close();
      }
    });

    it("reconciliation sends orders whose events were lost", async () => {
      const stack = await startStack(kind, { plugin: { autoStart: false } });
      try {
        const host = stack.main.host;
        await host.disable();
        // Created while the plugin was not listening: no event reached it.
        const lost = await host.erp.createOrder(newOrder(50_001));
        const cancelledEarly = await host.erp.createOrder(newOrder(50_002, { status: "cancelled" }));
        await host.enable();
        const engine = stack.main.plugin.runtime()!.engine!;
        assert.equal(await engine.scheduler.runTask("reconcile-orders"), "ran");
        await stack.drain();
        assert.ok(stack.sandbox.order(lost.number), "lost order delivered");
        assert.equal(stack.sandbox.order(cancelledEarly.number), undefined, "never-sent cancelled order is not created");
        // An edit made while the plugin was not listening is found by the next pass too.
        await host.disable();
        await host.erp.updateOrder(lost.id, { shipByDate: "2026-05-20" });
        await host.enable();
        const again = stack.main.plugin.runtime()!.engine!;
        await stack.db.knex("zenflow_state").where({ key: "schedule:reconcile-orders" }).delete();
        assert.equal(await again.scheduler.runTask("reconcile-orders"), "ran");
        await stack.drain();
        assert.equal(stack.sandbox.order(lost.number)!.assembly_date, "2026-05-20", "lost edit delivered");
        // A further pass finds nothing new.
        const before = stack.sandbox.requests().length;
        assert.equal(await again.scheduler.runTask("reconcile-orders"), "ran");
        await stack.drain();
        assert.equal(stack.sandbox.requests().length, before);
      } finally {
        await stack.close();
      }
    });
  });
}
