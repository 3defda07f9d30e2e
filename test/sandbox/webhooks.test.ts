// Webhooks: subscription API, signed delivery, retries, warehouse-driven payloads.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { after, before, beforeEach, describe, it } from "node:test";
import { startSandbox, type Sandbox } from "../../dev/sandbox/index";
import { call, order, startReceiver, waitFor, type Receiver } from "./helpers";

const ALL_ORDER_EVENTS = ["order/created", "order/updated", "order/cancelled", "order/completed"];

describe("sandbox webhooks", () => {
  let sb: Sandbox;
  let rx: Receiver;
  before(async () => {
    sb = await startSandbox({ webhook: { retryBaseMs: 20, maxAttempts: 3, timeoutMs: 500 } });
    rx = await startReceiver();
  });
  beforeEach(() => {
    sb.reset();
    rx.received.length = 0;
    rx.respond = () => 200;
  });
  after(async () => {
    await sb.close();
    await rx.close();
  });

  async function subscribe(events: string[]): Promise<{ id: string; secret: string }> {
    const r = await call(sb, "POST", "/webhooks", { body: { name: "ERP", url: rx.url, events } });
    assert.equal(r.status, 201);
    return r.body.data;
  }

  it("creates subscriptions with a secret shown once, validates them, lists without secrets", async () => {
    const r = await call(sb, "POST", "/webhooks", {
      body: { name: "My notifications", url: rx.url, events: ["order/created", "stock/updated"] },
    });
    assert.equal(r.status, 201);
    assert.match(r.body.data.id, /^wh_[0-9a-f]+$/);
    assert.match(r.body.data.secret, /^whsec_[0-9a-f]{32}$/);
    assert.equal(r.body.data.active, true);
    const list = await call(sb, "GET", "/webhooks");
    assert.equal(list.body.data.webhooks.length, 1);
    assert.equal("secret" in list.body.data.webhooks[0], false);
    const bad = await call(sb, "POST", "/webhooks", { body: { name: "x", url: "ftp://x", events: ["order.created"] } });
    assert.equal(bad.status, 400);
    assert.deepEqual(
      bad.body.error.details.map((d: { field: string }) => d.field),
      ["url", "events[0]"],
    );
  });

  it("delivers order/created signed with HMAC-SHA256 of the raw body", async () => {
    const { secret } = await subscribe(["order/created"]);
    await call(sb, "POST", "/orders", { body: order("W-1") });
    await sb.idle();
    assert.equal(rx.received.length, 1);
    const got = rx.received[0]!;
    const expected = `sha256=${createHmac("sha256", secret).update(got.raw).digest("hex")}`;
    assert.equal(got.headers["x-zenflow-signature"], expected);
    assert.equal(sb.sign(secret, got.raw), expected);
    assert.equal(got.headers["content-type"], "application/json");
    assert.equal(got.headers["user-agent"], "ZenFlow-Webhooks/1.0");
    assert.equal(got.headers["x-zenflow-event"], "order/created");
    assert.equal(got.headers["x-zenflow-delivery"], got.json.id);
    assert.match(got.json.id, /^evt_[0-9a-f]+$/);
    assert.equal(got.json.event, "order/created");
    assert.match(got.json.created_at, /Z$/);
    assert.deepEqual(
      { ...got.json.data, created_at: "-", updated_at: "-" },
      {
        order_id: 12345,
        order_tenant_id: "W-1",
        state_id: 1,
        state_name: "Pending",
        warehouse_id: 1,
        warehouse_name: "Main Warehouse",
        items_count: 2,
        total_quantity: 3,
        source: "api",
        source_integration: null,
        created_at: "-",
        updated_at: "-",
      },
    );
  });

  it("retries after a 500 from the receiver, with the same bytes, and logs each attempt", async () => {
    await subscribe(["order/created"]);
    rx.respond = (n) => (n === 0 ? 500 : 200);
    await call(sb, "POST", "/orders", { body: order("W-2") });
    await sb.idle();
    assert.equal(rx.received.length, 2);
    assert.ok(rx.received[0]!.raw.equals(rx.received[1]!.raw), "identical body on retry");
    assert.deepEqual(
      sb.deliveries().map((d) => [d.attempt, d.status, d.error ?? null]),
      [
        [1, 500, "HTTP 500"],
        [2, 200, null],
      ],
    );
  });

  it("gives up after maxAttempts, and times out a receiver that never answers", async () => {
    rx.respond = () => 0;
    const fast = await startSandbox({ webhook: { retryBaseMs: 10, maxAttempts: 2, timeoutMs: 100 } });
    try {
      await call(fast, "POST", "/webhooks", { body: { name: "hang", url: rx.url, events: ["order/created"] } });
      await call(fast, "POST", "/orders", { body: order("W-3") });
      await fast.idle();
      assert.deepEqual(
        fast.deliveries().map((d) => [d.attempt, d.status, d.error]),
        [
          [1, null, "timeout after 100ms"],
          [2, null, "timeout after 100ms"],
        ],
      );
    } finally {
      await fast.close();
    }
  });

  it("advanceOrder emits order/updated, order/completed and order/cancelled with the documented fields", async () => {
    await subscribe(ALL_ORDER_EVENTS);
    await call(sb, "POST", "/orders", { body: [order("W-4"), order("W-5")] });
    sb.advanceOrder("W-4", "In Progress");
    sb.advanceOrder("W-4", "Packed");
    const done = sb.advanceOrder(12345, "Completed", { trackingNumber: "TRK-1", carrier: "OCA" });
    assert.equal(done.state_picking_id, 1);
    sb.advanceOrder("W-5", "Cancelled", { reason: "out of stock" });
    await sb.idle();
    const events = rx.received.map((r) => r.json);
    assert.deepEqual(
      events.map((e) => [e.event, e.data.order_tenant_id]),
      [
        ["order/created", "W-4"],
        ["order/created", "W-5"],
        ["order/updated", "W-4"],
        ["order/updated", "W-4"],
        ["order/completed", "W-4"],
        ["order/cancelled", "W-5"],
      ],
    );
    const inProgress = events[2].data;
    assert.deepEqual(
      { ...inProgress, updated_at: "-" },
      {
        order_id: 12345,
        order_tenant_id: "W-4",
        state_id: 2,
        state_name: "In Progress",
        previous_state_id: 1,
        previous_state_name: "Pending",
        updated_fields: ["state_id"],
        updated_at: "-",
      },
    );
    const completed = events[4].data;
    assert.equal(completed.state_id, 4);
    assert.equal(completed.state_name, "Completed");
    assert.equal(completed.items_picked, 2);
    assert.equal(completed.total_quantity_picked, 3);
    assert.equal(completed.picked_by, "sandbox");
    assert.equal(typeof completed.duration_minutes, "number");
    assert.equal(completed.tracking_number, "TRK-1");
    assert.equal(completed.carrier, "OCA");
    assert.match(completed.updated_at, /Z$/);
    const cancelled = events[5].data;
    assert.equal(cancelled.cancellation_reason, "out of stock");
    assert.equal(cancelled.cancelled_by, "warehouse");
    assert.equal(cancelled.state_id, 5);
    assert.throws(() => sb.advanceOrder("W-4", "Packed"), /already Completed/);

    // API update and cancel emit too; a repeated cancel does not.
    await call(sb, "POST", "/orders", { body: order("W-6") });
    await call(sb, "PUT", "/orders/12347", { body: { customer_name: "Jane" } });
    await call(sb, "POST", "/orders/W-6/cancel", { body: { reason: "api reason" } });
    await call(sb, "POST", "/orders/W-6/cancel");
    await sb.idle();
    const tail = rx.received.slice(6).map((r) => r.json);
    assert.deepEqual(
      tail.map((e) => e.event),
      ["order/created", "order/updated", "order/cancelled"],
    );
    assert.deepEqual(tail[1].data.updated_fields, ["customer_name"]);
    assert.equal(tail[2].data.cancelled_by, "api");
  });

  it("emits stock/updated and product/* events", async () => {
    await subscribe(["stock/updated", "product/created", "product/deleted"]);
    await call(sb, "POST", "/products", { body: { name: "Widget A", barcode: "789", sku: "SKU-001" } });
    await call(sb, "PUT", "/stock/product/100", { body: { location_id: "LOC-A1", quantity: 5 } });
    sb.setStock({ sku: "SKU-001" }, "LOC-A1", 3, "cycle count");
    await call(sb, "DELETE", "/products/100");
    await sb.idle();
    const events = rx.received.map((r) => r.json);
    assert.deepEqual(
      events.map((e) => e.event),
      ["product/created", "stock/updated", "stock/updated", "product/deleted"],
    );
    assert.deepEqual(events[0].data, { product_id: 100, barcode: "789", sku: "SKU-001", name: "Widget A", is_active: true });
    assert.deepEqual(events[2].data, {
      product_id: 100,
      product_barcode: "789",
      sku: "SKU-001",
      location_id: "LOC-A1",
      quantity: 3,
      previous_quantity: 5,
      source: "manual",
    });
    assert.equal(events[1].data.source, "api");
    assert.equal(events[3].data.is_active, false);
  });

  it("emit, redeliver and deliverRaw for receiver tests; dot spelling on request", async () => {
    await subscribe(["order/completed"]);
    await sb.emit("order/completed", { order_id: 1 }, { id: "evt_fixed1", createdAt: "2024-01-15T10:30:00Z" });
    assert.equal(rx.received.length, 1, "emit resolves after delivery");
    assert.deepEqual(rx.received[0]!.json, {
      id: "evt_fixed1",
      event: "order/completed",
      created_at: "2024-01-15T10:30:00Z",
      data: { order_id: 1 },
    });
    await sb.redeliver("evt_fixed1");
    assert.ok(rx.received[1]!.raw.equals(rx.received[0]!.raw), "replay sends the same bytes");
    const raw = await sb.deliverRaw(rx.url, "not json", { "Content-Type": "text/plain" });
    assert.deepEqual(raw, { status: 200, body: "OK" });
    assert.equal(rx.received[2]!.raw.toString(), "not json");

    const dot = await startSandbox({ webhook: { eventSpelling: "dot" } });
    try {
      await call(dot, "POST", "/webhooks", { body: { name: "dot", url: rx.url, events: ["order/created"] } });
      await call(dot, "POST", "/orders", { body: order("D-1") });
      await dot.idle();
      const last = rx.received[rx.received.length - 1]!;
      assert.equal(last.json.event, "order.created");
      assert.equal(last.headers["x-zenflow-event"], "order.created");
    } finally {
      await dot.close();
    }
  });

  it("close() aborts pending retries promptly", async () => {
    const slow = await startSandbox({ webhook: { retryBaseMs: 60_000, maxAttempts: 5 } });
    rx.respond = () => 500;
    await call(slow, "POST", "/webhooks", { body: { name: "fail", url: rx.url, events: ["order/created"] } });
    await call(slow, "POST", "/orders", { body: order("X-1") });
    await waitFor(() => slow.deliveries().length > 0);
    const t = Date.now();
    await slow.close();
    await slow.idle();
    assert.ok(Date.now() - t < 1000);
    assert.equal(slow.deliveries().length, 1);
  });
});
