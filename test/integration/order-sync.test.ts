// Issue #2 acceptance: ERP order events reach ZenFlow exactly once, batched, with the
// documented fields and a mapping row each; updates, cancels, bad input, dedupe, dates.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { newOrder } from "../support/builders";
import { testDbKinds } from "../support/db";
import { eventually, startStack, type Stack } from "../support/stack";

function createRequests(stack: Stack) {
  return stack.sandbox.requests().filter((r) => r.method === "POST" && r.path.endsWith("/orders") && r.status !== null);
}

for (const kind of testDbKinds()) {
  describe(`order sync [${kind}]`, () => {
    let stack: Stack;
    before(async () => {
      stack = await startStack(kind, { plugin: { autoStart: false } });
    });
    after(async () => stack?.close());
    const route = () => stack.main.plugin.runtime()!.parts.eventLog.route();

    it("300 order.created events become exactly 300 ZenFlow orders and 300 mappings, in fewer requests", async () => {
      const erp = stack.main.host.erp;
      const created = [];
      for (let i = 1; i <= 300; i++) created.push(await erp.createOrder(newOrder(i)));
      assert.equal(Number((await stack.db.knex("zenflow_event_log").count({ n: "*" }))[0]!.n), 300, "one log row per event");
      await stack.drain();

      const orders = stack.sandbox.orders();
      assert.equal(orders.length, 300);
      assert.equal(new Set(orders.map((o) => o.order_tenant_id)).size, 300);
      const sample = stack.sandbox.order("SO-T-000007")!;
      assert.equal(sample.assembly_date, "2026-03-01");
      assert.equal(sample.customer_name, "Customer 7");
      assert.equal(sample.shipping_address, "Street 7, Buenos Aires, CABA C1000, AR");
      assert.deepEqual(
        sample.order_detail.map((l) => [l.barcode, l.quantity, l.price]),
        [
          ["7790000", 2, 10.5],
          ["SKU-NB-2", 2, 3],
        ],
      );

      const maps = await stack.db.knex("zenflow_id_map").where({ entity_type: "order" });
      assert.equal(maps.length, 300);
      const byErp = new Map(maps.map((m) => [m.erp_id, m]));
      for (const o of created) {
        const m = byErp.get(o.id)!;
        assert.equal(m.erp_ref, o.number);
        assert.equal(String(m.zenflow_id), String(stack.sandbox.order(o.number)!.id));
        assert.ok(m.payload_hash && m.synced_at);
      }
      const reqs = createRequests(stack);
      assert.ok(reqs.length < 300, `${reqs.length} create requests for 300 orders`);
      assert.ok(reqs.length <= 6, `batched: ${reqs.length} requests`);
      const done = await stack.db.knex("zenflow_outbox").where({ status: "done" }).count({ n: "*" });
      assert.equal(Number(done[0]!.n), 300);
    });

    it("the same event delivered twice produces one outbox row", async () => {
      const erp = stack.main.host.erp;
      const o = await erp.createOrder(newOrder(1001));
      await stack.drain();
      const count = async () => Number((await stack.db.knex("zenflow_outbox").count({ n: "*" }))[0]!.n);
      const before = await count();
      const meta = { eventId: "evt-dup-1" };
      await erp.emit("order.updated", o, meta);
      await erp.emit("order.updated", o, meta);
      await route();
      assert.equal(await count(), before + 1, "one row for two deliveries of one event");
      assert.equal(Number((await stack.db.knex("zenflow_seen_events").where({ event_id: "evt-dup-1" }).count({ n: "*" }))[0]!.n), 1);
      await stack.drain();
      // Even after the first was processed, a late duplicate adds nothing.
      await erp.emit("order.updated", o, meta);
      await route();
      assert.equal(await count(), before + 1);
      assert.equal(stack.sandbox.orders().filter((z) => z.order_tenant_id === o.number).length, 1);
    });

    it("orders in a status not configured as eligible wait in the ERP until they become eligible", async () => {
      const erp = stack.main.host.erp;
      const o = await erp.createOrder(newOrder(1002, { status: "draft" }));
      await stack.drain();
      assert.equal(stack.sandbox.order(o.number), undefined);
      const hist = await stack.db.knex("zenflow_history").where({ erp_ref: o.number });
      assert.match(hist.at(-1)!.message, /status "draft", which is not sent/);
      await erp.updateOrder(o.id, { status: "awaiting_fulfillment" });
      await stack.drain();
      assert.ok(stack.sandbox.order(o.number));
    });

    it("edits of a sent order go out as PUT with the changed header fields; line edits leave a note", async () => {
      const erp = stack.main.host.erp;
      const o = await erp.createOrder(newOrder(1003));
      await stack.drain();
      const zid = stack.sandbox.order(o.number)!.id;
      await erp.updateOrder(o.id, {
        shipByDate: "2026-04-15",
        shippingAddress: { line1: "New Street 9", city: "Córdoba", postalCode: "5000", country: "AR" },
      });
      await stack.drain();
      const z = stack.sandbox.order(o.number)!;
      assert.equal(z.id, zid);
      assert.equal(z.assembly_date, "2026-04-15");
      assert.equal(z.shipping_address, "New Street 9, Córdoba, 5000, AR");
      const puts = stack.sandbox.requests().filter((r) => r.method === "PUT" && r.path.endsWith(`/orders/${zid}`));
      assert.equal(puts.length, 1);

      // An update that changes nothing ZenFlow tracks sends nothing.
      await erp.updateOrder(o.id, { notes: "gift wrap" });
      await stack.drain();
      assert.equal(stack.sandbox.requests().filter((r) => r.method === "PUT" && r.path.endsWith(`/orders/${zid}`)).length, 1);

      await erp.updateOrder(o.id, { items: [{ sku: "SKU-X", quantity: 5, unitPrice: "1.00" }] });
      await stack.drain();
      const notes = await erp.notes(o.id);
      assert.ok(
        notes.some((n) => /lines changed after it was sent to ZenFlow/.test(n.note)),
        "note about line change",
      );
    });

    it("cancelling in the ERP cancels in ZenFlow; a refused cancel leaves a note on the ERP order", async () => {
      const erp = stack.main.host.erp;
      const a = await erp.createOrder(newOrder(1004));
      const b = await erp.createOrder(newOrder(1005));
      await stack.drain();
      await erp.cancelOrder(a.id, "customer changed their mind");
      await stack.drain();
      assert.equal(stack.sandbox.order(a.number)!.state_id, 5);

      stack.sandbox.advanceOrder(b.number, "Completed", { trackingNumber: "TRK1" });
      await erp.cancelOrder(b.id, "too late");
      await stack.drain();
      assert.equal(stack.sandbox.order(b.number)!.state_id, 4);
      const notes = await erp.notes(b.id);
      assert.ok(
        notes.some((n) => /ZenFlow could not cancel this order/.test(n.note)),
        JSON.stringify(notes),
      );
    });

    it("a cancel that arrives while the create is in flight ends with the order cancelled in ZenFlow", async () => {
      const erp = stack.main.host.erp;
      stack.sandbox.failNext(1, "latency", { path: /\/orders$/, method: "POST", latencyMs: 400 });
      const o = await erp.createOrder(newOrder(1006));
      const engine = stack.main.plugin.runtime()!.engine!;
      const sending = engine.worker.runOnce();
      // The binder records the attempt right before the POST leaves: from then on the create is on the wire.
      await eventually(
        async () => (await stack.db.knex("zenflow_id_map").where({ entity_type: "order", erp_id: o.id })).length === 1,
        5000,
        "create in flight",
      );
      await erp.cancelOrder(o.id, "oops");
      await route();
      const row = await stack.db
        .knex("zenflow_outbox")
        .where({ entity_key: `order:${o.id}` })
        .first();
      assert.ok(row.rerun === 1 || row.rerun === true, "running job flagged to run again");
      await sending;
      await stack.drain();
      assert.equal(stack.sandbox.order(o.number)!.state_id, 5);
      assert.equal(stack.sandbox.orders().filter((z) => z.order_tenant_id === o.number).length, 1);
    });

    it("bad orders become dead letters an admin understands, and the rest keeps flowing", async () => {
      const erp = stack.main.host.erp;
      const noLines = await erp.createOrder(newOrder(2001, { items: [] }));
      const negative = await erp.createOrder(newOrder(2002, { items: [{ sku: "SKU-1", quantity: -3, unitPrice: "1.00" }] }));
      const badDate = await erp.createOrder(newOrder(2003, { shipByDate: "2026-02-31" }));
      const good = await erp.createOrder(newOrder(2004));
      await stack.drain();
      assert.ok(stack.sandbox.order(good.number));
      for (const bad of [noLines, negative, badDate]) assert.equal(stack.sandbox.order(bad.number), undefined);
      const dead = await stack.db
        .knex("zenflow_outbox")
        .where({ status: "dead" })
        .whereIn("erp_ref", [noLines.number, negative.number, badDate.number]);
      assert.equal(dead.length, 3);
      const msg = new Map(dead.map((d) => [d.erp_ref, d.last_error]));
      assert.match(msg.get(noLines.number)!, /Order SO-T-002001 cannot be sent to ZenFlow: items is empty/);
      assert.match(msg.get(negative.number)!, /quantity is -3: quantities must be greater than zero/);
      assert.match(msg.get(badDate.number)!, /shipByDate "2026-02-31" is not a valid date \(expected YYYY-MM-DD\)/);
      const health = await stack.main.plugin.health();
      assert.equal(health.status, "degraded");
      assert.match(health.message!, /3 changes could not be synced/);

      // Fixing the order in the ERP sends it and retires the dead letter.
      await erp.updateOrder(noLines.id, { items: [{ sku: "SKU-1", quantity: 1, unitPrice: "2.00" }] });
      await stack.drain();
      assert.ok(stack.sandbox.order(noLines.number));
      const after = await stack.db.knex("zenflow_outbox").where({ erp_ref: noLines.number, status: "dead" });
      assert.equal(after.length, 0);
    });

    it("a ship-by date survives the process time zone and the database round trip", async () => {
      const erp = stack.main.host.erp;
      const o = await erp.createOrder(newOrder(3001, { shipByDate: "2026-03-01" }));
      await stack.drain();
      assert.equal(stack.sandbox.order(o.number)!.assembly_date, "2026-03-01", `TZ=${process.env.TZ ?? "(unset)"}`);
      const body = stack.sandbox
        .requests()
        .filter((r) => r.method === "POST" && r.path.endsWith("/orders"))
        .map((r) => JSON.stringify(r.body))
        .find((b) => b.includes(o.number))!;
      assert.match(body, /"assembly_date":"2026-03-01"/);
    });
  });
}
