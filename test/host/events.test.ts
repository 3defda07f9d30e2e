// Events (contract sections 5 and 8): only manifest hooks, after commit, origin tagging,
// no event for a write that changes nothing, isolation from failing handlers, one process.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createTestDb, testDbKinds, type TestDb } from "../support/db";
import { createFixturePlugin, sampleOrder, startTestHost } from "./helpers";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO_MS_Z = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

for (const kind of testDbKinds()) {
  describe(`events (${kind})`, () => {
    let db: TestDb;
    before(async () => {
      db = await createTestDb(kind);
    });
    after(async () => {
      await db.destroy();
    });

    test("delivers only manifest hooks, after commit, with origin for ctx.erp writes", async () => {
      const plugin = createFixturePlugin({ checkCommitted: true });
      const { host, log } = await startTestHost(db.knex, { plugin });
      try {
        await host.enable();
        assert.equal(log.find("debug", /product\.created is not in the manifest's hooks/).length, 1);
        await host.erp.createProduct({ sku: "EV-1", name: "Event product" });
        const order = await host.erp.createOrder(sampleOrder(1));
        assert.deepEqual(
          plugin.state.events.map((e) => e.name),
          ["order.created"],
          "product.created is not a hook",
        );

        const created = plugin.state.events[0]!;
        assert.equal(created.committed, true, "the handler sees the committed row");
        assert.deepEqual(created.payload, order);
        assert.match(created.meta.eventId, UUID);
        assert.match(created.meta.occurredAt, ISO_MS_Z);
        assert.equal(created.meta.origin, undefined, "an ERP user's change has no origin");

        await host.ctx.erp.orders.setStatus(order.id, "picking", "picked by the warehouse");
        const updated = plugin.state.events[1]!;
        assert.equal(updated.name, "order.updated");
        assert.equal(updated.meta.origin, "hostfix");
        assert.equal(updated.payload.status, "picking");
        assert.equal(updated.committed, true);
        assert.notEqual(updated.meta.eventId, created.meta.eventId);

        await host.erp.updateOrder(order.id, { shippingAddress: { ...order.shippingAddress, city: "Shelbyville" } });
        assert.equal(plugin.state.events[2]!.meta.origin, undefined);
        assert.equal(plugin.state.events[2]!.payload.shippingAddress.city, "Shelbyville");

        await host.ctx.erp.orders.cancel(order.id, "customer changed their mind");
        const cancelled = plugin.state.events[3]!;
        assert.equal(cancelled.name, "order.cancelled");
        assert.equal(cancelled.meta.origin, "hostfix");
        assert.equal(cancelled.payload.reason, "customer changed their mind");
        assert.equal(cancelled.payload.order.status, "cancelled");
        assert.equal(cancelled.committed, true);

        await host.ctx.erp.stock.set({ sku: "EV-1", locationId: "main", quantity: 5, reason: "count" });
        await host.erp.setStock({ sku: "EV-1", locationId: "main", quantity: 7 });
        const [s1, s2] = plugin.state.events.slice(4);
        assert.deepEqual(s1!.payload, { sku: "EV-1", locationId: "main", quantity: 5, previousQuantity: 0, reason: "count" });
        assert.equal(s1!.meta.origin, "hostfix");
        assert.deepEqual(s2!.payload, { sku: "EV-1", locationId: "main", quantity: 7, previousQuantity: 5 });
        assert.equal(s2!.meta.origin, undefined);
      } finally {
        await host.close();
      }
    });

    test("a write that changes nothing emits no event", async () => {
      const { host, plugin } = await startTestHost(db.knex);
      try {
        await host.enable();
        await host.erp.createProduct({ sku: "NOOP-1", name: "No-op product" });
        const order = await host.erp.createOrder(sampleOrder(2));
        await host.ctx.erp.stock.set({ sku: "NOOP-1", locationId: "backroom", quantity: 3, reason: "r" });
        await host.ctx.erp.orders.setStatus(order.id, "ready_to_ship");
        await host.ctx.erp.orders.markShipped(order.id, { shippedAt: "2026-11-01T10:00:00.000Z", trackingNumber: "1Z999", carrier: "UPS" });
        const count = plugin.state.events.length;
        assert.equal(count, 4);

        await host.ctx.erp.orders.setStatus(order.id, "shipped");
        await host.ctx.erp.orders.markShipped(order.id, { shippedAt: "2026-11-01T10:00:00.000Z", trackingNumber: "1Z999", carrier: "UPS" });
        await host.ctx.erp.orders.markShipped(order.id, { shippedAt: "2026-11-01T11:00:00+01:00" }); // same instant, fields kept
        await host.ctx.erp.orders.addNote(order.id, "a note is not an event");
        await host.ctx.erp.stock.set({ sku: "NOOP-1", locationId: "backroom", quantity: 3, reason: "again" });
        await host.erp.updateOrder(order.id, { status: "shipped", currency: "USD" });
        await host.erp.setStock({ sku: "NOOP-1", locationId: "main", quantity: 0 }); // no row = 0
        assert.equal(plugin.state.events.length, count);

        const other = await host.erp.createOrder(sampleOrder(3));
        await host.ctx.erp.orders.cancel(other.id, "dup");
        await host.ctx.erp.orders.cancel(other.id, "dup");
        await host.erp.cancelOrder(other.id, "again");
        assert.deepEqual(
          plugin.state.events.slice(count).map((e) => e.name),
          ["order.created", "order.cancelled"],
        );

        const notes = await host.erp.notes(order.id);
        assert.deepEqual(
          notes.map((n) => [n.note, n.origin]),
          [["a note is not an event", "hostfix"]],
        );
        assert.deepEqual(await host.erp.shipment(order.id), {
          shippedAt: "2026-11-01T10:00:00.000Z",
          trackingNumber: "1Z999",
          carrier: "UPS",
        });
      } finally {
        await host.close();
      }
    });

    test("a throwing handler is logged and does not break the ERP operation; stats count it", async () => {
      const plugin = createFixturePlugin({ throwOn: ["order.created"] });
      const { host, log } = await startTestHost(db.knex, { plugin });
      try {
        await host.enable();
        const order = await host.erp.createOrder(sampleOrder(4));
        assert.ok(await host.erp.getOrder(order.id));
        const errors = log.find("error", /handler for order\.created failed/);
        assert.equal(errors.length, 1);
        assert.equal(errors[0]!.obj.event, "order.created");
        await host.erp.updateOrder(order.id, { notes: "fine" });
        const stats = Object.fromEntries(host.eventStats().map((s) => [s.name, s]));
        assert.equal(stats["order.created"]!.errors, 1);
        assert.equal(stats["order.created"]!.count, 1);
        assert.equal(stats["order.updated"]!.errors, 0);
        assert.ok(stats["order.updated"]!.p99Ms >= stats["order.updated"]!.p50Ms);
      } finally {
        await host.close();
      }
    });

    test("a slow handler is logged as a warning and counted", async () => {
      const plugin = createFixturePlugin({ handlerDelayMs: 15 });
      const { host, log } = await startTestHost(db.knex, { plugin });
      try {
        await host.enable();
        await host.erp.createOrder(sampleOrder(5));
        assert.equal(log.find("warn", /slow plugin handler for order\.created/).length, 1);
        const stat = host.eventStats().find((s) => s.name === "order.created")!;
        assert.equal(stat.slow, 1);
        assert.ok(stat.p50Ms >= 14, `p50 ${stat.p50Ms}`);
      } finally {
        await host.close();
      }
    });

    test("emit() fires an arbitrary event, e.g. one eventId twice", async () => {
      const { host, plugin } = await startTestHost(db.knex);
      try {
        await host.enable();
        const order = await host.erp.createOrder(sampleOrder(6));
        const meta = await host.erp.emit("order.updated", order);
        await host.erp.emit("order.updated", order, { eventId: meta.eventId, occurredAt: meta.occurredAt });
        await host.erp.emit("product.deleted", { id: "x", sku: "y" }); // not a hook
        const updates = plugin.state.events.filter((e) => e.name === "order.updated");
        assert.equal(updates.length, 2);
        assert.equal(updates[0]!.meta.eventId, updates[1]!.meta.eventId);
        assert.equal(
          plugin.state.events.some((e) => e.name === "product.deleted"),
          false,
        );
      } finally {
        await host.close();
      }
    });

    test("two hosts on one database each deliver only their own events", async () => {
      const knexB = db.connect();
      const a = await startTestHost(db.knex, { processName: "erp-a" });
      const b = await startTestHost(knexB, { processName: "erp-b" });
      try {
        await a.host.enable();
        await b.host.enable();
        const oa = await a.host.erp.createOrder(sampleOrder(7));
        const ob = await b.host.erp.createOrder(sampleOrder(8));
        await b.host.ctx.erp.orders.setStatus(oa.id, "on_hold");
        assert.deepEqual(
          a.plugin.state.events.map((e) => [e.name, e.payload.id]),
          [["order.created", oa.id]],
        );
        assert.deepEqual(
          b.plugin.state.events.map((e) => [e.name, e.payload.id]),
          [
            ["order.created", ob.id],
            ["order.updated", oa.id],
          ],
        );
        // Both see the same data.
        assert.equal((await a.host.ctx.erp.orders.get(oa.id))?.status, "on_hold");
        assert.equal((await b.host.ctx.erp.orders.get(ob.id))?.number, ob.number);
      } finally {
        await a.host.close();
        await b.host.close();
      }
    });
  });
}
