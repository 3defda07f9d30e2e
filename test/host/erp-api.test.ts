// ctx.erp (contract sections 6 and 8): list order, cursors, updatedSince, limits, error codes.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { ErpApi, ErpOrder } from "../../plugin/core/host-api";
import type { Host } from "../../dev/host";
import { createTestDb, testDbKinds, type TestDb } from "../support/db";
import { sampleOrder, startTestHost } from "./helpers";

async function all<T>(
  fetch: (cursor?: string) => Promise<{ items: T[]; nextCursor: string | null }>,
): Promise<{ items: T[]; pages: number }> {
  const items: T[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await fetch(cursor);
    pages++;
    items.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return { items, pages };
}

const sortKey = (o: { updatedAt: string; id: string }) => `${o.updatedAt}|${o.id}`;

async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (err: Error & { code?: string }) => {
    assert.ok(err instanceof Error);
    assert.equal(err.code, code, err.message);
    return true;
  });
}

for (const kind of testDbKinds()) {
  describe(`ctx.erp (${kind})`, () => {
    let db: TestDb;
    let host: Host;
    let erp: ErpApi;
    before(async () => {
      db = await createTestDb(kind);
      ({ host } = await startTestHost(db.knex));
      await host.enable();
      erp = host.ctx.erp;
    });
    after(async () => {
      await host.close();
      await db.destroy();
    });

    test("orders.list: sorted by updatedAt then id, opaque cursor, inclusive updatedSince, status filter", async () => {
      // Three orders share one timestamp, so the id breaks the tie.
      const orders: ErpOrder[] = [];
      for (let i = 0; i < 3; i++) orders.push(await host.erp.createOrder({ ...sampleOrder(i), createdAt: "2026-01-01T00:00:00.000Z" }));
      for (let i = 3; i < 7; i++)
        orders.push(await host.erp.createOrder({ ...sampleOrder(i), createdAt: `2026-01-0${i - 1}T00:00:00.000Z` }));
      await host.erp.updateOrder(orders[0]!.id, { status: "on_hold" }); // moves to the end

      const { items, pages } = await all((cursor) => erp.orders.list({ limit: 3, ...(cursor ? { cursor } : {}) }));
      assert.equal(pages, 3);
      assert.equal(items.length, 7);
      assert.deepEqual(items.map(sortKey), [...items.map(sortKey)].sort());
      assert.equal(items[items.length - 1]!.id, orders[0]!.id);
      assert.equal(new Set(items.map((o) => o.id)).size, 7);

      const lastPage = await erp.orders.list({ limit: 7 });
      assert.equal(lastPage.nextCursor, null, "no cursor when everything fits");
      assert.equal((await erp.orders.list({})).items.length, 7, "default limit 100");

      const since = orders[4]!.updatedAt; // 2026-01-03
      const fromSince = await erp.orders.list({ updatedSince: since });
      assert.deepEqual(
        fromSince.items.map((o) => o.id),
        [orders[4]!.id, orders[5]!.id, orders[6]!.id, orders[0]!.id],
        "inclusive",
      );
      const sameInstant = await erp.orders.list({ updatedSince: "2026-01-03T01:00:00+01:00" });
      assert.deepEqual(
        sameInstant.items.map((o) => o.id),
        fromSince.items.map((o) => o.id),
        "any offset",
      );

      const held = await erp.orders.list({ status: ["on_hold"] });
      assert.deepEqual(
        held.items.map((o) => o.id),
        [orders[0]!.id],
      );
      assert.equal((await erp.orders.list({ status: ["on_hold", "awaiting_fulfillment"], limit: 1000 })).items.length, 7);

      const paged = await all((cursor) => erp.orders.list({ updatedSince: since, limit: 1, ...(cursor ? { cursor } : {}) }));
      assert.deepEqual(
        paged.items.map((o) => o.id),
        fromSince.items.map((o) => o.id),
      );

      assert.equal((await erp.orders.list({ limit: 5000 })).items.length, 7, "limit above 1000 is clamped, not refused");
      await rejectsWith(erp.orders.list({ limit: 0 }), "invalid");
      await rejectsWith(erp.orders.list({ cursor: "garbage!" }), "invalid");
      await rejectsWith(erp.orders.list({ updatedSince: "yesterday" }), "invalid");

      assert.deepEqual(await erp.orders.findByNumber(orders[2]!.number), orders[2]);
      assert.equal(await erp.orders.get("ord_missing"), null);
    });

    test("products.list and stock.list page in a stable order", async () => {
      const skus = ["P-C", "P-A", "P-E", "P-B", "P-D"];
      for (const sku of skus) await host.erp.createProduct({ sku, name: `Product ${sku}`, price: "9.99", weightKg: 0.5 });
      const { items } = await all((cursor) => erp.products.list({ limit: 2, ...(cursor ? { cursor } : {}) }));
      assert.equal(items.length, 5);
      assert.deepEqual(items.map(sortKey), [...items.map(sortKey)].sort());
      const pa = await erp.products.findBySku("P-A");
      assert.deepEqual(pa && { ...pa, id: "", updatedAt: "" }, {
        id: "",
        sku: "P-A",
        barcode: null,
        name: "Product P-A",
        category: null,
        weightKg: 0.5,
        price: "9.99",
        active: true,
        updatedAt: "",
      });
      assert.deepEqual(await erp.products.get(pa!.id), pa);
      assert.equal((await erp.products.list({ updatedSince: items[4]!.updatedAt })).items.at(-1)?.id, items[4]!.id);

      for (const [i, sku] of skus.entries()) {
        await host.erp.setStock({ sku, locationId: "main", quantity: i + 1 });
        await host.erp.setStock({ sku, locationId: "backroom", quantity: 10 + i });
      }
      const stock = await all((cursor) => erp.stock.list({ limit: 3, ...(cursor ? { cursor } : {}) }));
      assert.deepEqual(
        stock.items.map((s) => `${s.sku}@${s.locationId}`),
        ["P-A", "P-B", "P-C", "P-D", "P-E"].flatMap((s) => [`${s}@backroom`, `${s}@main`]),
      );
      const main = await erp.stock.list({ locationId: "main" });
      assert.deepEqual(
        main.items.map((s) => [s.sku, s.quantity]),
        [
          ["P-A", 2],
          ["P-B", 4],
          ["P-C", 1],
          ["P-D", 5],
          ["P-E", 3],
        ],
      );
    });

    test("writes report not_found, invalid and conflict", async () => {
      const order = await host.erp.createOrder(sampleOrder(20));
      await rejectsWith(erp.orders.setStatus(order.id, "teleported"), "invalid");
      await rejectsWith(erp.orders.setStatus("ord_missing", "picking"), "not_found");
      await rejectsWith(erp.orders.addNote("ord_missing", "x"), "not_found");
      await rejectsWith(erp.orders.markShipped(order.id, { shippedAt: "soon" }), "invalid");
      await rejectsWith(erp.stock.set({ sku: "P-A", locationId: "main", quantity: -1, reason: "r" }), "invalid");
      await rejectsWith(erp.stock.set({ sku: "P-A", locationId: "attic", quantity: 1, reason: "r" }), "invalid");
      await rejectsWith(erp.stock.set({ sku: "NO-SUCH", locationId: "main", quantity: 1, reason: "r" }), "not_found");
      await erp.orders.cancel(order.id, "oops");
      await rejectsWith(erp.orders.markShipped(order.id, { shippedAt: "2026-11-01T10:00:00Z" }), "conflict");
      await rejectsWith(host.erp.createProduct({ sku: "P-A", name: "duplicate" }), "conflict");

      const shipped = await host.erp.createOrder(sampleOrder(21));
      await erp.orders.setStatus(shipped.id, "picking", "started picking");
      await erp.orders.markShipped(shipped.id, { shippedAt: "2026-11-02T08:30:00Z", trackingNumber: "TRK1" });
      await rejectsWith(erp.orders.cancel(shipped.id, "too late"), "conflict");
      const history = await host.erp.history(shipped.id);
      assert.deepEqual(
        history.map((h) => [h.what, h.from, h.to, h.origin]),
        [
          ["created", null, "awaiting_fulfillment", null],
          ["status", "awaiting_fulfillment", "picking", "hostfix"],
          ["status", "picking", "shipped", "hostfix"],
          ["shipped_at", null, "2026-11-02T08:30:00.000Z", "hostfix"],
          ["tracking_number", null, "TRK1", "hostfix"],
        ],
      );
      assert.deepEqual(
        (await host.erp.notes(shipped.id)).map((n) => n.note),
        ["started picking"],
      );
      assert.deepEqual(await erp.statuses(), [
        { code: "draft", label: "Draft" },
        { code: "awaiting_fulfillment", label: "Awaiting fulfillment" },
        { code: "on_hold", label: "On hold" },
        { code: "picking", label: "Picking" },
        { code: "ready_to_ship", label: "Ready to ship" },
        { code: "shipped", label: "Shipped" },
        { code: "cancelled", label: "Cancelled" },
      ]);
    });

    test("bad orders are stored as typed: empty items, malformed ship-by date", async () => {
      const bad = await host.erp.createOrder({ ...sampleOrder(30), items: [], shipByDate: "2026-13-45" });
      const worse = await host.erp.createOrder({ ...sampleOrder(31), shipByDate: "next tuesday", number: "MANUAL-1", currency: "usd" });
      assert.deepEqual((await erp.orders.get(bad.id))?.items, []);
      assert.equal((await erp.orders.get(bad.id))?.shipByDate, "2026-13-45");
      assert.equal((await erp.orders.get(worse.id))?.shipByDate, "next tuesday");
      assert.match(bad.number, /^SO-\d{4}-\d{6}$/);
      await rejectsWith(host.erp.createOrder({ ...sampleOrder(32), items: "none" as never }), "invalid");
    });

    test("a database failure is reported as unavailable", async () => {
      const knex = db.connect();
      const { host: broken } = await startTestHost(knex);
      try {
        await knex.destroy();
        await rejectsWith(broken.ctx.erp.orders.get("ord_x"), "unavailable");
        await rejectsWith(broken.ctx.erp.orders.setStatus("ord_x", "picking"), "unavailable");
      } finally {
        await broken.close();
      }
    });
  });
}
