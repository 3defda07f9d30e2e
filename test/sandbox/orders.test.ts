// Orders: idempotent creation, all-or-nothing batches, update/cancel rules, reads.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { startSandbox, type Sandbox } from "../../dev/sandbox/index";
import { call, order } from "./helpers";

describe("sandbox orders", () => {
  let sb: Sandbox;
  before(async () => {
    sb = await startSandbox({ maxBatch: 5 });
  });
  beforeEach(() => sb.reset());
  after(() => sb.close());

  it("creates one order (201) and reports a re-post of the same order_tenant_id as existing (200), unchanged", async () => {
    const first = await call(sb, "POST", "/orders", { body: order("ORD-001") });
    assert.equal(first.status, 201);
    assert.deepEqual(first.body.data, {
      created_count: 1,
      existing_count: 0,
      orders: [{ id: 12345, order_tenant_id: "ORD-001", state_id: 1, state_name: "Pending", status: "created" }],
    });
    const again = await call(sb, "POST", "/orders", { body: order("ORD-001", { customer_name: "Someone Else" }) });
    assert.equal(again.status, 200);
    assert.equal(again.body.data.created_count, 0);
    assert.equal(again.body.data.existing_count, 1);
    assert.equal(again.body.data.orders[0].status, "existing");
    assert.equal(again.body.data.orders[0].id, 12345);
    assert.equal(sb.orders().length, 1);
    assert.equal(sb.order("ORD-001")!.customer_name, "John Doe", "existing order not changed by the re-post");
  });

  it("accepts {orders:[…]} and bare arrays; a tenant id repeated inside one request is created once", async () => {
    const r = await call(sb, "POST", "/orders", { body: { orders: [order("B-1"), order("B-2"), order("B-1")] } });
    assert.equal(r.status, 201);
    assert.equal(r.body.data.created_count, 2);
    assert.equal(r.body.data.existing_count, 1);
    assert.deepEqual(
      r.body.data.orders.map((o: { order_tenant_id: string; status: string; id: number }) => [o.order_tenant_id, o.status, o.id]),
      [
        ["B-1", "created", 12345],
        ["B-2", "created", 12346],
        ["B-1", "existing", 12345],
      ],
    );
    const bare = await call(sb, "POST", "/orders", { body: [order("B-3")] });
    assert.equal(bare.status, 201);
    assert.equal(sb.orders().length, 3);
  });

  it("rejects the whole batch when one order is invalid, naming the fields", async () => {
    const r = await call(sb, "POST", "/orders", {
      body: { orders: [order("V-1"), order("V-2"), order("V-3", { assembly_date: "2024-02-30", order_detail: [] })] },
    });
    assert.equal(r.status, 400);
    assert.equal(r.body.error.code, "validation_error");
    assert.equal(r.body.error.message, "Invalid order data");
    assert.deepEqual(r.body.error.details, [
      { field: "orders[2].assembly_date", message: "Must be a valid date in YYYY-MM-DD format" },
      { field: "orders[2].order_detail", message: "At least one item is required" },
    ]);
    assert.equal(sb.orders().length, 0, "nothing created");

    const lines = await call(sb, "POST", "/orders", { body: order("V-4", { order_detail: [{ barcode: "", quantity: 0, price: -1 }] }) });
    assert.deepEqual(
      lines.body.error.details.map((d: { field: string }) => d.field),
      ["order_detail[0].barcode", "order_detail[0].quantity", "order_detail[0].price"],
    );
    const tooMany = await call(sb, "POST", "/orders", { body: [1, 2, 3, 4, 5, 6].map((i) => order(`M-${i}`)) });
    assert.equal(tooMany.status, 400);
    assert.equal(tooMany.body.error.message, "At most 5 orders per request");
  });

  it("links known barcodes to products and accepts unknown ones with a null product", async () => {
    await call(sb, "POST", "/products", { body: { name: "Widget A", barcode: "7891234567890", sku: "SKU-001" } });
    await call(sb, "POST", "/orders", { body: order("P-1") });
    const detail = await call(sb, "GET", "/orders/12345");
    assert.equal(detail.status, 200);
    const [a, b] = detail.body.data.order_detail;
    assert.deepEqual(a, {
      id: 1001,
      product_id: 100,
      barcode: "7891234567890",
      product_name: "Widget A",
      quantity: 2,
      picked_quantity: 0,
      price: 29.99,
    });
    assert.equal(b.product_id, null);
    assert.equal(b.product_name, null);
    assert.equal(detail.body.data.state_name, "Pending");
    assert.equal(detail.body.data.state_picking_id, null);
    assert.equal(detail.body.data.tracking_number, null);
    assert.equal(detail.body.data.cancellation_reason, null);
    assert.match(detail.body.data.created_at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
  });

  it("refuses unknown barcodes when strictBarcodes is on", async () => {
    const strict = await startSandbox({ strictBarcodes: true });
    try {
      const r = await call(strict, "POST", "/orders", { body: order("S-1") });
      assert.equal(r.status, 400);
      assert.equal(r.body.error.details[0].field, "order_detail[0].barcode");
      assert.equal(strict.orders().length, 0);
    } finally {
      await strict.close();
    }
  });

  it("updates open orders, refuses completed/cancelled ones", async () => {
    await call(sb, "POST", "/orders", { body: [order("U-1"), order("U-2")] });
    const upd = await call(sb, "PUT", "/orders/12345", {
      body: { assembly_date: "2024-01-16", shipping_address: "456 New Address, City" },
    });
    assert.equal(upd.status, 200);
    assert.deepEqual(Object.keys(upd.body.data).sort(), [
      "assembly_date",
      "customer_name",
      "id",
      "order_tenant_id",
      "shipping_address",
      "state_id",
      "updated_at",
    ]);
    assert.equal(upd.body.data.assembly_date, "2024-01-16");
    const badDate = await call(sb, "PUT", "/orders/12345", { body: { assembly_date: "16/01/2024" } });
    assert.equal(badDate.status, 400);
    assert.equal(badDate.body.error.details[0].field, "assembly_date");

    sb.advanceOrder(12345, "Completed");
    const refused = await call(sb, "PUT", "/orders/12345", { body: { customer_name: "X" } });
    assert.equal(refused.status, 400);
    assert.deepEqual(refused.body.error, { code: "update_error", message: "Cannot update order in current state" });
    await call(sb, "POST", "/orders/U-2/cancel");
    assert.equal((await call(sb, "PUT", "/orders/12346", { body: { customer_name: "X" } })).body.error.code, "update_error");
    assert.equal((await call(sb, "PUT", "/orders/777", { body: {} })).status, 404);
  });

  it("cancels by id or tenant id, idempotently; refuses completed orders", async () => {
    await call(sb, "POST", "/orders", { body: [order("C-1"), order("C-2"), order("12345")] });
    const byTenant = await call(sb, "POST", "/orders/C-1/cancel", { body: { reason: "customer request" } });
    assert.equal(byTenant.status, 200);
    assert.deepEqual(byTenant.body.data, { message: "Order cancelled successfully", order_id: "C-1" });
    assert.equal(sb.order("C-1")!.state_name, "Cancelled");
    assert.equal(sb.order("C-1")!.cancellation_reason, "customer request");
    assert.equal(sb.order("C-1")!.cancelled_by, "api");
    const again = await call(sb, "POST", "/orders/C-1/cancel");
    assert.deepEqual([again.status, again.body.data.message], [200, "Order cancelled successfully"]);

    // Numeric-looking reference: the ZenFlow id wins over a tenant id "12345".
    await call(sb, "POST", "/orders/12346/cancel");
    assert.equal(sb.order(12346)!.state_id, 5);
    assert.equal(sb.order("12345")!.state_id, 5, "order 12345 is C-1, already cancelled");
    assert.equal(sb.order(12347)!.state_id, 1, "the order whose tenant id is '12345' is untouched");

    sb.advanceOrder(12347, "Completed");
    const refused = await call(sb, "POST", "/orders/12347/cancel");
    assert.equal(refused.status, 400);
    assert.deepEqual(refused.body.error, { code: "cancel_error", message: "Cannot cancel order that is already completed" });
    assert.equal((await call(sb, "POST", "/orders/NOPE/cancel")).status, 404);
  });

  it("lists with filters and pagination, and reports status", async () => {
    await call(sb, "POST", "/orders", { body: [order("L-1"), order("L-2", { assembly_date: "2024-03-01" }), order("L-3")] });
    sb.advanceOrder("L-3", "In Progress");
    const page = await call(sb, "GET", "/orders?limit=2&page=2");
    assert.deepEqual(page.body.data.pagination, { total: 3, page: 2, limit: 2, total_pages: 2 });
    assert.deepEqual(
      page.body.data.orders.map((o: { order_tenant_id: string }) => o.order_tenant_id),
      ["L-3"],
    );
    assert.equal(page.body.data.orders[0].items_count, 2);
    const states = await call(sb, "GET", "/orders?state_id=1&state_id=2");
    assert.equal(states.body.data.orders.length, 3);
    const inProgress = await call(sb, "GET", "/orders?state_id=2&include_details=true");
    assert.equal(inProgress.body.data.orders.length, 1);
    assert.equal(inProgress.body.data.orders[0].order_detail.length, 2);
    const byAssembly = await call(sb, "GET", "/orders?assembly_date=2024-03-01");
    assert.deepEqual(
      byAssembly.body.data.orders.map((o: { order_tenant_id: string }) => o.order_tenant_id),
      ["L-2"],
    );
    const future = await call(sb, "GET", "/orders?start_date=2999-01-01");
    assert.equal(future.body.data.pagination.total, 0);
    const status = await call(sb, "GET", "/orders/12347/status");
    assert.deepEqual(Object.keys(status.body.data).sort(), ["external_id", "order_id", "state_id", "state_picking_id", "updated_at"]);
    assert.equal(status.body.data.external_id, "L-3");
    assert.equal(status.body.data.state_id, 2);
  });
});
