// Orders: the ERP's own operations and the ones behind ctx.erp.orders. Writes return the
// events they cause; the caller emits them after the transaction commits.
import { randomUUID } from "node:crypto";
import type { Knex } from "knex";
import type { ErpAddress, ErpOrder, ErpOrderItem, Page } from "../../../plugin/core/host-api";
import { erpError } from "./errors";
import {
  isPlainObject,
  nowIso,
  optionalString,
  requireIsoTimestamp,
  requireNonEmptyString,
  requireObject,
  requireObjectArray,
  requireString,
} from "./input";
import { clampLimit, decodeCursor, encodeCursor, normaliseTimestamp } from "./paging";
import { orderFromRow, shipmentFromRow, type OrderRow, type Shipment } from "./rows";
import { forUpdate, type PendingEvent } from "./transaction";

export interface NewOrderInput {
  id?: string;
  number?: string;
  status?: string;
  shipByDate?: string | null;
  customer: ErpOrder["customer"];
  shippingAddress: ErpAddress;
  items: ErpOrderItem[];
  currency?: string;
  notes?: string | null;
  /** Back-dating for tests of updatedSince; defaults to now. */
  createdAt?: string;
}

export interface OrderPatch {
  number?: string;
  status?: string;
  shipByDate?: string | null;
  customer?: ErpOrder["customer"];
  shippingAddress?: ErpAddress;
  items?: ErpOrderItem[];
  currency?: string;
  notes?: string | null;
}

export interface OrderNote {
  note: string;
  origin: string | null;
  createdAt: string;
}

export interface OrderHistoryEntry {
  what: string;
  from: string | null;
  to: string | null;
  origin: string | null;
  at: string;
}

export interface OrderListQuery {
  updatedSince?: string;
  status?: string[];
  cursor?: string;
  limit?: number;
}

const CANCELLED = "cancelled";
const SHIPPED = "shipped";

async function loadRow(trx: Knex | Knex.Transaction, id: unknown, lock: boolean): Promise<OrderRow> {
  if (typeof id !== "string") throw erpError("invalid", "order id must be a string");
  const q = trx<OrderRow>("erp_orders").where({ id }).first();
  const row = (await (lock ? forUpdate(trx as Knex, q) : q)) as OrderRow | undefined;
  if (!row) throw erpError("not_found", `order ${id} not found`);
  return row;
}

async function assertStatus(trx: Knex.Transaction, status: unknown): Promise<string> {
  const code = requireNonEmptyString(status, "status");
  const known = await trx("erp_statuses").where({ code }).first();
  if (!known) throw erpError("invalid", `unknown order status "${code}"`);
  return code;
}

async function nextOrderNumber(trx: Knex.Transaction): Promise<string> {
  const year = new Date().getUTCFullYear();
  const name = `order_number_${year}`;
  // UPDATE first: it takes the row's exclusive lock at once and holds it until COMMIT, so
  // concurrent orders queue instead of taking the same number. (Inserting first would take a
  // shared lock on the existing row, and two such transactions deadlock on the UPDATE.)
  const updated = await trx("erp_sequences").where({ name }).increment("value", 1);
  if (Number(updated) === 0) {
    await trx("erp_sequences").insert({ name, value: 0 }).onConflict("name").ignore();
    await trx("erp_sequences").where({ name }).increment("value", 1);
  }
  const row = (await trx("erp_sequences").where({ name }).first("value")) as { value: number | string };
  return `SO-${year}-${String(Number(row.value)).padStart(6, "0")}`;
}

async function addHistory(
  trx: Knex.Transaction,
  orderId: string,
  what: string,
  from: string | null,
  to: string | null,
  origin: string | undefined,
  at: string,
): Promise<void> {
  await trx("erp_order_events").insert({ order_id: orderId, what, from_value: from, to_value: to, origin: origin ?? null, at });
}

/** The event for a changed order: a move into "cancelled" is reported as order.cancelled, anything else as order.updated. */
function changeEvent(before: OrderRow, after: ErpOrder, reason?: string): PendingEvent {
  if (before.status !== CANCELLED && after.status === CANCELLED) {
    return { name: "order.cancelled", payload: reason === undefined ? { order: after } : { order: after, reason } };
  }
  return { name: "order.updated", payload: after };
}

export async function createOrder(trx: Knex.Transaction, events: PendingEvent[], input: NewOrderInput, origin?: string): Promise<ErpOrder> {
  const o = requireObject(input, "order");
  const now = nowIso();
  const createdAt = o.createdAt === undefined ? now : requireIsoTimestamp(o.createdAt, "createdAt");
  const status = await assertStatus(trx, o.status ?? "awaiting_fulfillment");
  const row: OrderRow = {
    id: o.id === undefined ? `ord_${randomUUID()}` : requireNonEmptyString(o.id, "id"),
    number: o.number === undefined ? await nextOrderNumber(trx) : requireNonEmptyString(o.number, "number"),
    status,
    ship_by_date: optionalString(o.shipByDate, "shipByDate") ?? null,
    customer: JSON.stringify(requireObject(o.customer, "customer")),
    shipping_address: JSON.stringify(requireObject(o.shippingAddress, "shippingAddress")),
    items: JSON.stringify(requireObjectArray(o.items, "items")),
    currency: o.currency === undefined ? "USD" : requireString(o.currency, "currency"),
    notes: optionalString(o.notes, "notes") ?? null,
    shipped_at: null,
    tracking_number: null,
    carrier: null,
    updated_origin: origin ?? null,
    created_at: createdAt,
    updated_at: createdAt,
  };
  await trx("erp_orders").insert(row);
  await addHistory(trx, row.id, "created", null, status, origin, now);
  const order = orderFromRow(row);
  events.push({ name: "order.created", payload: order });
  return order;
}

const PATCH_FIELDS: { key: keyof OrderPatch; column: keyof OrderRow; json: boolean }[] = [
  { key: "number", column: "number", json: false },
  { key: "status", column: "status", json: false },
  { key: "shipByDate", column: "ship_by_date", json: false },
  { key: "customer", column: "customer", json: true },
  { key: "shippingAddress", column: "shipping_address", json: true },
  { key: "items", column: "items", json: true },
  { key: "currency", column: "currency", json: false },
  { key: "notes", column: "notes", json: false },
];

export async function updateOrder(
  trx: Knex.Transaction,
  events: PendingEvent[],
  id: string,
  patch: OrderPatch,
  origin?: string,
): Promise<ErpOrder> {
  const p = requireObject(patch, "patch");
  const before = await loadRow(trx, id, true);
  const changes: Partial<Record<keyof OrderRow, string | null>> = {};
  for (const f of PATCH_FIELDS) {
    if (!(f.key in p) || p[f.key] === undefined) continue;
    const v = p[f.key];
    let stored: string | null;
    if (f.key === "status") stored = await assertStatus(trx, v);
    else if (f.key === "number") stored = requireNonEmptyString(v, "number");
    else if (f.key === "currency") stored = requireString(v, "currency");
    else if (f.key === "items") stored = JSON.stringify(requireObjectArray(v, "items"));
    else if (f.json) stored = JSON.stringify(requireObject(v, f.key));
    else stored = optionalString(v, f.key) ?? null;
    if (stored !== before[f.column]) changes[f.column] = stored;
  }
  return applyChanges(trx, events, before, changes, origin);
}

async function applyChanges(
  trx: Knex.Transaction,
  events: PendingEvent[],
  before: OrderRow,
  changes: Partial<Record<keyof OrderRow, string | null>>,
  origin: string | undefined,
  reason?: string,
): Promise<ErpOrder> {
  const columns = Object.keys(changes) as (keyof OrderRow)[];
  if (columns.length === 0) return orderFromRow(before);
  const now = nowIso();
  const after: OrderRow = { ...before, ...changes, updated_at: now, updated_origin: origin ?? null } as OrderRow;
  await trx("erp_orders")
    .where({ id: before.id })
    .update({ ...changes, updated_at: now, updated_origin: origin ?? null });
  for (const c of columns) await addHistory(trx, before.id, c, before[c] ?? null, after[c] ?? null, origin, now);
  const order = orderFromRow(after);
  events.push(changeEvent(before, order, reason));
  return order;
}

export async function setStatus(
  trx: Knex.Transaction,
  events: PendingEvent[],
  id: string,
  status: string,
  note: string | undefined,
  origin?: string,
): Promise<void> {
  const code = await assertStatus(trx, status);
  if (note !== undefined && typeof note !== "string") throw erpError("invalid", "note must be a string");
  const before = await loadRow(trx, id, true);
  // Idempotent: a repeated call changes nothing, so it adds neither a note nor an event.
  if (before.status === code) return;
  await applyChanges(trx, events, before, { status: code }, origin, note);
  if (note) await insertNote(trx, before.id, note, origin);
}

export async function markShipped(
  trx: Knex.Transaction,
  events: PendingEvent[],
  id: string,
  s: { shippedAt: string; trackingNumber?: string; carrier?: string },
  origin?: string,
): Promise<void> {
  const input = requireObject(s, "shipment");
  const shippedAt = requireIsoTimestamp(input.shippedAt, "shippedAt");
  const tracking = optionalString(input.trackingNumber, "trackingNumber");
  const carrier = optionalString(input.carrier, "carrier");
  const before = await loadRow(trx, id, true);
  if (before.status === CANCELLED) throw erpError("conflict", `order ${before.id} is cancelled and cannot be shipped`);
  const changes: Partial<Record<keyof OrderRow, string | null>> = {};
  if (before.status !== SHIPPED) changes.status = SHIPPED;
  if (before.shipped_at !== shippedAt) changes.shipped_at = shippedAt;
  // An omitted tracking number or carrier keeps the stored one, so a retry with fewer fields is a no-op.
  if (tracking !== undefined && tracking !== before.tracking_number) changes.tracking_number = tracking;
  if (carrier !== undefined && carrier !== before.carrier) changes.carrier = carrier;
  await applyChanges(trx, events, before, changes, origin);
}

export async function cancel(
  trx: Knex.Transaction,
  events: PendingEvent[],
  id: string,
  reason: string | undefined,
  origin?: string,
): Promise<ErpOrder> {
  if (reason !== undefined && typeof reason !== "string") throw erpError("invalid", "reason must be a string");
  const before = await loadRow(trx, id, true);
  if (before.status === CANCELLED) return orderFromRow(before);
  if (before.status === SHIPPED) throw erpError("conflict", `order ${before.id} is already shipped and cannot be cancelled`);
  const order = await applyChanges(trx, events, before, { status: CANCELLED }, origin, reason);
  if (reason) await addHistory(trx, before.id, "cancel_reason", null, reason, origin, order.updatedAt);
  return order;
}

async function insertNote(trx: Knex.Transaction, orderId: string, note: string, origin: string | undefined): Promise<void> {
  await trx("erp_order_notes").insert({ order_id: orderId, note, origin: origin ?? null, created_at: nowIso() });
}

/** Notes are not changes to the order: no event and no new updatedAt. */
export async function addNote(trx: Knex.Transaction, id: string, note: string, origin?: string): Promise<void> {
  const text = requireNonEmptyString(note, "note");
  const row = await loadRow(trx, id, false);
  await insertNote(trx, row.id, text, origin);
}

// ---- reads ----

export async function getOrder(db: Knex, id: string): Promise<ErpOrder | null> {
  if (typeof id !== "string") throw erpError("invalid", "order id must be a string");
  const row = (await db<OrderRow>("erp_orders").where({ id }).first()) as OrderRow | undefined;
  return row ? orderFromRow(row) : null;
}

export async function getOrderWithShipment(db: Knex, id: string): Promise<{ order: ErpOrder; shipment: Shipment | null } | null> {
  const row = (await db<OrderRow>("erp_orders").where({ id }).first()) as OrderRow | undefined;
  return row ? { order: orderFromRow(row), shipment: shipmentFromRow(row) } : null;
}

export async function findByNumber(db: Knex, number: string): Promise<ErpOrder | null> {
  if (typeof number !== "string") throw erpError("invalid", "order number must be a string");
  const row = (await db<OrderRow>("erp_orders").where({ number }).first()) as OrderRow | undefined;
  return row ? orderFromRow(row) : null;
}

export async function listOrders(db: Knex, q: OrderListQuery = {}): Promise<Page<ErpOrder>> {
  const query = isPlainObject(q) ? q : {};
  const limit = clampLimit(query.limit);
  const since = normaliseTimestamp(query.updatedSince, "updatedSince");
  const after = decodeCursor(query.cursor, ["u", "i"] as const);
  if (query.status !== undefined && (!Array.isArray(query.status) || !query.status.every((s) => typeof s === "string"))) {
    throw erpError("invalid", "status must be an array of strings");
  }
  const b = db<OrderRow>("erp_orders");
  if (since) b.where("updated_at", ">=", since);
  if (query.status) b.whereIn("status", query.status);
  if (after)
    b.where((w) => w.where("updated_at", ">", after.u).orWhere((x) => x.where("updated_at", "=", after.u).andWhere("id", ">", after.i)));
  const rows = (await b.orderBy([{ column: "updated_at" }, { column: "id" }]).limit(limit + 1)) as OrderRow[];
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    items: page.map(orderFromRow),
    nextCursor: rows.length > limit && last ? encodeCursor({ u: last.updated_at, i: last.id }) : null,
  };
}

export async function orderNotes(db: Knex, orderId: string): Promise<OrderNote[]> {
  const rows = (await db("erp_order_notes").where({ order_id: orderId }).orderBy("id")) as {
    note: string;
    origin: string | null;
    created_at: string;
  }[];
  return rows.map((r) => ({ note: r.note, origin: r.origin, createdAt: r.created_at }));
}

export async function orderHistory(db: Knex, orderId: string): Promise<OrderHistoryEntry[]> {
  const rows = (await db("erp_order_events").where({ order_id: orderId }).orderBy("id")) as {
    what: string;
    from_value: string | null;
    to_value: string | null;
    origin: string | null;
    at: string;
  }[];
  return rows.map((r) => ({ what: r.what, from: r.from_value, to: r.to_value, origin: r.origin, at: r.at }));
}
