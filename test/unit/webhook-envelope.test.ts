// What a verified webhook becomes: the envelope check (plugin/webhooks/envelope.ts), the event
// name in its stored form, the inbox row's kind and entity (plugin/jobs/inbox-row.ts), and the
// ZenFlow state an order event means (stateOf in plugin/sync/apply-order-state.ts).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { entityOf, type InboxKind, kindOf, toInboxRow } from "../../plugin/jobs/inbox-row";
import { KEY_MAX, entityKey } from "../../plugin/jobs/keys";
import { Priority } from "../../plugin/jobs/priorities";
import { stateOf } from "../../plugin/sync/apply-order-state";
import { envelopeSchema, instant, normalizeEvent } from "../../plugin/webhooks/envelope";
import "../support/leak-check";

const VALID = { id: "evt_abc123", event: "order/updated", created_at: "2026-01-15T10:30:00Z", data: { order_id: 12345 } };

describe("envelopeSchema", () => {
  const accepted: [string, unknown][] = [
    ["the documented envelope", VALID],
    ["the dot spelling of the event", { ...VALID, event: "order.updated" }],
    ["empty data", { ...VALID, data: {} }],
    ["nested data", { ...VALID, data: { order_id: 1, items: [{ sku: "A" }], customer: { name: "Ñandú" } } }],
    ["an id of 128 characters", { ...VALID, id: "e".repeat(128) }],
    ["an event name of 64 characters", { ...VALID, event: "x".repeat(64) }],
    ["a created_at that is not a date (the time is read leniently later)", { ...VALID, created_at: "yesterday" }],
  ];
  for (const [name, body] of accepted) it(`accepts ${name}`, () => assert.equal(envelopeSchema.safeParse(body).success, true));

  it("keeps the four fields and drops anything else", () => {
    const parsed = envelopeSchema.parse({ ...VALID, extra: "x", signature: "sha256=..." });
    assert.deepEqual(parsed, VALID);
  });

  const rejected: [string, unknown, string][] = [
    ["a missing id", { event: VALID.event, created_at: VALID.created_at, data: VALID.data }, "id"],
    ["an empty id", { ...VALID, id: "" }, "id"],
    ["a numeric id", { ...VALID, id: 12345 }, "id"],
    ["an id over 128 characters", { ...VALID, id: "e".repeat(129) }, "id"],
    ["a missing event", { id: VALID.id, created_at: VALID.created_at, data: VALID.data }, "event"],
    ["an empty event", { ...VALID, event: "" }, "event"],
    ["an event over 64 characters", { ...VALID, event: "x".repeat(65) }, "event"],
    ["a missing created_at", { id: VALID.id, event: VALID.event, data: VALID.data }, "created_at"],
    ["a numeric created_at", { ...VALID, created_at: 1705314600 }, "created_at"],
    ["a created_at over 64 characters", { ...VALID, created_at: "2".repeat(65) }, "created_at"],
    ["missing data", { id: VALID.id, event: VALID.event, created_at: VALID.created_at }, "data"],
    ["data null", { ...VALID, data: null }, "data"],
    ["data as an array", { ...VALID, data: [{ order_id: 1 }] }, "data"],
    ["data as a string", { ...VALID, data: "order 12345" }, "data"],
  ];
  for (const [name, body, path] of rejected) {
    it(`rejects ${name}, naming ${path}`, () => {
      const r = envelopeSchema.safeParse(body);
      assert.equal(r.success, false);
      assert.deepEqual(
        r.error!.issues.map((i) => i.path.join(".")),
        [path],
      );
    });
  }

  for (const [name, body] of [
    ["null", null],
    ["an array", [VALID]],
    ["a string", JSON.stringify(VALID)],
    ["a number", 42],
  ] as const) {
    it(`rejects a body that is ${name}`, () => assert.equal(envelopeSchema.safeParse(body).success, false));
  }
});

describe("normalizeEvent: stored in the slash form, lowercase", () => {
  const cases: [string, string][] = [
    ["order/updated", "order/updated"],
    ["order.updated", "order/updated"],
    ["order.completed", "order/completed"],
    ["order.cancelled", "order/cancelled"],
    ["ORDER/UPDATED", "order/updated"],
    ["Order.Updated", "order/updated"],
    ["  order/completed\n", "order/completed"],
    ["stock.updated", "stock/updated"],
    ["stock/low_alert", "stock/low_alert"],
    ["stock.movement_created", "stock/movement_created"],
    ["flow/completed", "flow/completed"],
  ];
  for (const [raw, want] of cases) it(`${JSON.stringify(raw)} → ${want}`, () => assert.equal(normalizeEvent(raw), want));
});

describe("instant: ZenFlow's time of an event", () => {
  const cases: [string, unknown, number | null][] = [
    ["an ISO time in UTC", "2026-01-15T10:30:00Z", Date.UTC(2026, 0, 15, 10, 30, 0)],
    ["an ISO time with an offset", "2026-01-15T07:30:00-03:00", Date.UTC(2026, 0, 15, 10, 30, 0)],
    ["milliseconds", "2026-01-15T10:30:00.250Z", Date.UTC(2026, 0, 15, 10, 30, 0, 250)],
    ["not a time", "yesterday", null],
    ["empty", "", null],
    ["a number", 1768473000000, null],
    ["null", null, null],
    ["missing", undefined, null],
  ];
  for (const [name, v, want] of cases) it(name, () => assert.equal(instant(v), want));
});

describe("kindOf: which synchronizer an event feeds", () => {
  const cases: [string, boolean, InboxKind][] = [
    ["order/updated", false, "order"],
    ["order/completed", false, "order"],
    ["order/cancelled", false, "order"],
    ["order/created", false, "ignored"],
    ["stock/updated", true, "stock"],
    ["stock/updated", false, "ignored"],
    ["stock/low_alert", true, "ignored"],
    ["stock/movement_created", true, "ignored"],
    ["product/updated", true, "ignored"],
    ["flow/completed", true, "ignored"],
    // kindOf takes the stored form: the router normalizes first.
    ["order.updated", false, "ignored"],
    ["ORDER/UPDATED", false, "ignored"],
  ];
  for (const [event, stockFromZenflow, want] of cases) {
    it(`${event}${stockFromZenflow ? " (stock from ZenFlow)" : ""} → ${want}`, () => assert.equal(kindOf(event, stockFromZenflow), want));
  }
});

describe("entityOf: the stream an event applies in order with", () => {
  const cases: [string, InboxKind, Record<string, unknown>, string | null][] = [
    ["an order by our order number", "order", { order_id: 12345, order_tenant_id: "SO-1" }, entityKey.inboxOrder("SO-1")],
    ["an order by ZenFlow's id when our number is absent", "order", { order_id: 12345 }, "order:12345"],
    ["an order whose number is null", "order", { order_id: 7, order_tenant_id: null }, "order:7"],
    ["an order with neither", "order", { state_id: 2 }, null],
    ["an order with both null", "order", { order_id: null, order_tenant_id: null }, null],
    [
      "stock by SKU and location",
      "stock",
      { sku: "MUG-1", product_barcode: "779", product_id: 9, location_id: "main" },
      entityKey.inboxStock("MUG-1", "main"),
    ],
    [
      "stock by barcode when there is no SKU",
      "stock",
      { product_barcode: "7790001", location_id: "A-1" },
      entityKey.inboxStock("7790001", "A-1"),
    ],
    ["stock by product id as a last resort", "stock", { product_id: 42, location_id: "main" }, "stock:42@main"],
    ["stock without a location", "stock", { sku: "MUG-1" }, entityKey.inboxStock("MUG-1", "")],
    ["stock with no product reference", "stock", { location_id: "main", quantity: 3 }, null],
    ["an ignored event", "ignored", { order_id: 1, sku: "X" }, null],
  ];
  for (const [name, kind, data, want] of cases) it(name, () => assert.equal(entityOf(kind, data), want));

  it("keys have a fixed bound, a readable prefix, and differ wherever the references differ (#10 item 1)", () => {
    const key = entityOf("order", { order_tenant_id: "S".repeat(300) })!;
    assert.ok(key.length <= KEY_MAX);
    assert.ok(key.startsWith("order:SSS"));
    assert.notEqual(key, entityOf("order", { order_tenant_id: `${"S".repeat(299)}T` }));
    // Plain references stay readable; case, spaces and separators never merge two.
    assert.equal(entityOf("order", { order_id: 12345 }), "order:12345");
    assert.notEqual(entityOf("order", { order_tenant_id: "so-1" }), entityOf("order", { order_tenant_id: "SO-1" }));
    assert.notEqual(entityOf("stock", { sku: "a@b", location_id: "c" }), entityOf("stock", { sku: "a", location_id: "b@c" }));
  });
});

describe("toInboxRow", () => {
  const base = { eventId: "evt_1", event: "order/updated", entityKey: "order:SO-1", zenflowCreatedAt: 1000, payload: "{}" };
  it("an order event is pending, at order priority, due now", () => {
    const row = toInboxRow({ ...base, kind: "order" }, 5000);
    assert.deepEqual(row, {
      event_id: "evt_1",
      event: "order/updated",
      kind: "order",
      entity_key: "order:SO-1",
      zenflow_created_at: 1000,
      payload: "{}",
      status: "pending",
      priority: Priority.order,
      attempts: 0,
      rerun: false,
      run_at: 5000,
      created_at: 5000,
      updated_at: 5000,
      finished_at: null,
    });
  });
  it("a stock event waits behind orders", () => {
    const row = toInboxRow({ ...base, event: "stock/updated", kind: "stock" }, 5000);
    assert.equal(row.priority, Priority.stock);
    assert.ok(Priority.order < Priority.stock, "a lower number runs first");
  });
  it("an ignored event is stored finished", () => {
    const row = toInboxRow({ ...base, event: "flow/completed", kind: "ignored", entityKey: null }, 5000);
    assert.equal(row.status, "ignored");
    assert.equal(row.finished_at, 5000);
  });
  it("an explicit priority wins", () => assert.equal(toInboxRow({ ...base, kind: "order", priority: 99 }, 1).priority, 99));
});

describe("stateOf: the ZenFlow state an order event means", () => {
  const cases: [string, string, Record<string, unknown>, string | null][] = [
    ["by state_name", "order/updated", { state_name: "Packed", state_id: 3 }, "Packed"],
    ["by state_name, lowercase", "order/updated", { state_name: "packed" }, "Packed"],
    ["by state_name, uppercase with spaces around", "order/updated", { state_name: "  IN PROGRESS " }, "In Progress"],
    ["by state_name, mixed case", "order/updated", { state_name: "cAnCeLlEd" }, "Cancelled"],
    ["the name wins over a different id", "order/updated", { state_name: "Packed", state_id: 2 }, "Packed"],
    ["by state_id 1", "order/updated", { state_id: 1 }, "Pending"],
    ["by state_id 2", "order/updated", { state_id: 2 }, "In Progress"],
    ["by state_id 3", "order/updated", { state_id: 3 }, "Packed"],
    ["by state_id 4", "order/updated", { state_id: 4 }, "Completed"],
    ["by state_id 5", "order/updated", { state_id: 5 }, "Cancelled"],
    ["by state_id as a string", "order/updated", { state_id: "4" }, "Completed"],
    ["an unknown name falls back to the id", "order/updated", { state_name: "Picking", state_id: 2 }, "In Progress"],
    ["an unknown name and no id", "order/updated", { state_name: "Picking" }, null],
    ["an unknown id", "order/updated", { state_id: 9 }, null],
    ["id 0", "order/updated", { state_id: 0 }, null],
    ["a non-numeric id", "order/updated", { state_id: "three" }, null],
    ["neither name nor id", "order/updated", { order_id: 1 }, null],
    ["an empty name and no id", "order/updated", { state_name: "" }, null],
    ["order/completed is Completed whatever the data says", "order/completed", { state_name: "Packed", state_id: 3 }, "Completed"],
    ["order/completed with no state at all", "order/completed", {}, "Completed"],
    ["order/cancelled is Cancelled whatever the data says", "order/cancelled", { state_name: "Pending", state_id: 1 }, "Cancelled"],
    ["order/cancelled with no state at all", "order/cancelled", {}, "Cancelled"],
  ];
  for (const [name, event, data, want] of cases) it(`${name} → ${want}`, () => assert.equal(stateOf(event, data), want));
});
