// Order model (docs §5): creation with order_tenant_id idempotency, update, cancel,
// the warehouse-side state changes and the order/* webhook payloads (§8.6).
import type { SandboxContext } from "./context";
import { ApiError, notFound, validationError, type FieldError } from "./errors";
import { isoSeconds, isValidDate } from "./time";
import type { AdvanceOptions, AdvanceState, OrderStateName, SandboxOrder, SandboxOrderLine } from "./types";
import { isFiniteNumber, isNonEmptyString, isPlainObject, optionalString, requireObjectBody } from "./validate";

export const ORDER_STATES: Record<number, OrderStateName> = {
  1: "Pending",
  2: "In Progress",
  3: "Packed",
  4: "Completed",
  5: "Cancelled",
};
const COMPLETED = 4;
const CANCELLED = 5;

function stateName(id: number): OrderStateName {
  const name = ORDER_STATES[id];
  if (!name) throw new Error(`Unknown order state ${id}`);
  return name;
}

// ---------- lookups and output shapes ----------

/** By ZenFlow id or order_tenant_id; a numeric-looking string tries the id first. */
export function findOrder(ctx: SandboxContext, ref: number | string): SandboxOrder | undefined {
  const { orders, orderIdsByTenant } = ctx.state;
  if (typeof ref === "number") return orders.get(ref);
  if (/^\d+$/.test(ref)) {
    const byId = orders.get(Number(ref));
    if (byId) return byId;
  }
  const id = orderIdsByTenant.get(ref);
  return id === undefined ? undefined : orders.get(id);
}

function lineView(l: SandboxOrderLine): SandboxOrderLine {
  return {
    id: l.id,
    product_id: l.product_id,
    barcode: l.barcode,
    product_name: l.product_name,
    quantity: l.quantity,
    picked_quantity: l.picked_quantity,
    price: l.price,
  };
}

export function orderListItem(o: SandboxOrder, includeDetails: boolean): Record<string, unknown> {
  const item: Record<string, unknown> = {
    id: o.id,
    order_tenant_id: o.order_tenant_id,
    state_id: o.state_id,
    state_name: o.state_name,
    assembly_date: o.assembly_date,
    customer_name: o.customer_name,
    items_count: o.order_detail.length,
    created_at: o.created_at,
    updated_at: o.updated_at,
  };
  // Shape with include_details is not documented; the detail's order_detail is the natural guess.
  if (includeDetails) item.order_detail = o.order_detail.map(lineView);
  return item;
}

export function orderDetail(o: SandboxOrder): Record<string, unknown> {
  return {
    id: o.id,
    order_tenant_id: o.order_tenant_id,
    state_id: o.state_id,
    state_name: o.state_name,
    state_picking_id: o.state_picking_id,
    assembly_date: o.assembly_date,
    customer_name: o.customer_name,
    shipping_address: o.shipping_address,
    order_detail: o.order_detail.map(lineView),
    tracking_number: o.tracking_number,
    cancellation_reason: o.cancellation_reason,
    created_at: o.created_at,
    updated_at: o.updated_at,
  };
}

export function orderStatus(o: SandboxOrder): Record<string, unknown> {
  return {
    order_id: o.id,
    external_id: o.order_tenant_id,
    state_id: o.state_id,
    state_picking_id: o.state_picking_id,
    updated_at: o.updated_at,
  };
}

function commonEventFields(o: SandboxOrder): Record<string, unknown> {
  return { order_id: o.id, order_tenant_id: o.order_tenant_id, state_id: o.state_id, state_name: o.state_name, updated_at: o.updated_at };
}

function totalQuantity(o: SandboxOrder): number {
  return o.order_detail.reduce((sum, l) => sum + l.quantity, 0);
}

// ---------- create ----------

interface OrderInput {
  order_tenant_id: string;
  assembly_date: string;
  customer_name: string | null;
  shipping_address: string | null;
  lines: { barcode: string; quantity: number; price: number | null }[];
}

/** The body may be one order, {orders:[…]} or a bare array (the prose says "or an array"). */
function normalizeOrdersBody(body: unknown): { list: unknown[]; prefixed: boolean } {
  if (Array.isArray(body)) return { list: body, prefixed: true };
  if (isPlainObject(body)) {
    if ("orders" in body) {
      if (!Array.isArray(body.orders))
        throw validationError("Invalid order data", [{ field: "orders", message: "Must be an array of orders" }]);
      return { list: body.orders, prefixed: true };
    }
    return { list: [body], prefixed: false };
  }
  throw validationError("Invalid order data", [
    { field: "body", message: 'Expected an order object, an array of orders or {"orders": [...]}' },
  ]);
}

function validateOrder(ctx: SandboxContext, raw: unknown, prefix: string, errors: FieldError[]): OrderInput | null {
  const at = (f: string) => `${prefix}${f}`;
  const before = errors.length;
  if (!isPlainObject(raw)) {
    errors.push({ field: prefix ? prefix.slice(0, -1) : "body", message: "Must be an order object" });
    return null;
  }
  const o = raw;
  if (!isNonEmptyString(o.order_tenant_id))
    errors.push({ field: at("order_tenant_id"), message: "Required and must be a non-empty string" });
  else if (o.order_tenant_id.length > 100) errors.push({ field: at("order_tenant_id"), message: "Must be at most 100 characters" });
  if (!isValidDate(o.assembly_date)) errors.push({ field: at("assembly_date"), message: "Must be a valid date in YYYY-MM-DD format" });
  if (!optionalString(o.customer_name)) errors.push({ field: at("customer_name"), message: "Must be a string" });
  if (!optionalString(o.shipping_address)) errors.push({ field: at("shipping_address"), message: "Must be a string" });
  const lines: OrderInput["lines"] = [];
  if (!Array.isArray(o.order_detail) || o.order_detail.length === 0) {
    errors.push({ field: at("order_detail"), message: "At least one item is required" });
  } else {
    o.order_detail.forEach((rawLine: unknown, j: number) => {
      const lf = (f: string) => at(`order_detail[${j}].${f}`);
      if (!isPlainObject(rawLine)) {
        errors.push({ field: at(`order_detail[${j}]`), message: "Must be an item object" });
        return;
      }
      const { barcode, quantity, price } = rawLine;
      if (!isNonEmptyString(barcode)) errors.push({ field: lf("barcode"), message: "Required and must be a non-empty string" });
      else if (ctx.opts.strictBarcodes && !ctx.state.productIdsByBarcode.has(barcode))
        errors.push({ field: lf("barcode"), message: `Unknown barcode ${barcode}` });
      if (!isFiniteNumber(quantity) || quantity <= 0) errors.push({ field: lf("quantity"), message: "Must be a number greater than 0" });
      if (price !== undefined && price !== null && (!isFiniteNumber(price) || price < 0))
        errors.push({ field: lf("price"), message: "Must be a number greater than or equal to 0" });
      if (typeof barcode === "string" && isFiniteNumber(quantity))
        lines.push({ barcode, quantity, price: isFiniteNumber(price) ? price : null });
    });
  }
  if (errors.length > before) return null;
  return {
    order_tenant_id: o.order_tenant_id as string,
    assembly_date: o.assembly_date as string,
    customer_name: (o.customer_name as string | null | undefined) ?? null,
    shipping_address: (o.shipping_address as string | null | undefined) ?? null,
    lines,
  };
}

export interface CreateOrdersResult {
  created_count: number;
  existing_count: number;
  orders: { id: number; order_tenant_id: string; state_id: number; state_name: string; status: "created" | "existing" }[];
}

/** All-or-nothing validation, then per-order idempotent creation in request order. */
export function createOrders(ctx: SandboxContext, body: unknown): { status: number; data: CreateOrdersResult } {
  const { list, prefixed } = normalizeOrdersBody(body);
  if (list.length === 0) throw validationError("Invalid order data", [{ field: "orders", message: "At least one order is required" }]);
  if (list.length > ctx.opts.maxBatch) {
    const message = `At most ${ctx.opts.maxBatch} orders per request`;
    throw validationError(message, [{ field: "orders", message }]);
  }
  const errors: FieldError[] = [];
  const inputs = list.map((raw, i) => validateOrder(ctx, raw, prefixed ? `orders[${i}].` : "", errors));
  if (errors.length > 0) throw validationError("Invalid order data", errors);

  const result: CreateOrdersResult = { created_count: 0, existing_count: 0, orders: [] };
  for (const input of inputs as OrderInput[]) {
    const existing = findByTenant(ctx, input.order_tenant_id);
    if (existing) {
      // Re-posting a known order_tenant_id never changes it (idempotency key, docs §5.5).
      result.existing_count++;
      result.orders.push({
        id: existing.id,
        order_tenant_id: existing.order_tenant_id,
        state_id: existing.state_id,
        state_name: existing.state_name,
        status: "existing",
      });
      continue;
    }
    const o = insertOrder(ctx, input);
    result.created_count++;
    result.orders.push({ id: o.id, order_tenant_id: o.order_tenant_id, state_id: o.state_id, state_name: o.state_name, status: "created" });
    ctx.emit("order/created", {
      ...commonEventFields(o),
      warehouse_id: 1,
      warehouse_name: "Main Warehouse",
      items_count: o.order_detail.length,
      total_quantity: totalQuantity(o),
      source: "api",
      source_integration: null,
      created_at: o.created_at,
    });
  }
  return { status: result.created_count > 0 ? 201 : 200, data: result };
}

function findByTenant(ctx: SandboxContext, tenantId: string): SandboxOrder | undefined {
  const id = ctx.state.orderIdsByTenant.get(tenantId);
  return id === undefined ? undefined : ctx.state.orders.get(id);
}

function insertOrder(ctx: SandboxContext, input: OrderInput): SandboxOrder {
  const s = ctx.state;
  const now = isoSeconds(ctx.now());
  const order: SandboxOrder = {
    id: s.nextOrderId++,
    order_tenant_id: input.order_tenant_id,
    state_id: 1,
    state_name: "Pending",
    state_picking_id: null,
    assembly_date: input.assembly_date,
    customer_name: input.customer_name,
    shipping_address: input.shipping_address,
    order_detail: input.lines.map((l) => {
      // Unknown barcodes are accepted with a null product (unless strictBarcodes refused them earlier).
      const pid = s.productIdsByBarcode.get(l.barcode);
      const product = pid === undefined ? undefined : s.products.get(pid);
      return {
        id: s.nextLineId++,
        product_id: product?.id ?? null,
        barcode: l.barcode,
        product_name: product?.name ?? null,
        quantity: l.quantity,
        picked_quantity: 0,
        price: l.price,
      };
    }),
    tracking_number: null,
    carrier: null,
    cancellation_reason: null,
    cancelled_by: null,
    picking_started_at: null,
    created_at: now,
    updated_at: now,
  };
  s.orders.set(order.id, order);
  s.orderIdsByTenant.set(order.order_tenant_id, order.id);
  return order;
}

// ---------- update ----------

export function updateOrder(ctx: SandboxContext, id: number, rawBody: unknown): Record<string, unknown> {
  const o = ctx.state.orders.get(id);
  if (!o) throw notFound("Order not found");
  const body = requireObjectBody(rawBody);
  const errors: FieldError[] = [];
  if (body.assembly_date !== undefined && !isValidDate(body.assembly_date))
    errors.push({ field: "assembly_date", message: "Must be a valid date in YYYY-MM-DD format" });
  if (!optionalString(body.customer_name)) errors.push({ field: "customer_name", message: "Must be a string" });
  if (!optionalString(body.shipping_address)) errors.push({ field: "shipping_address", message: "Must be a string" });
  if (body.state_id !== undefined && !(Number.isInteger(body.state_id) && ORDER_STATES[body.state_id as number]))
    errors.push({ field: "state_id", message: "Must be an integer between 1 and 5" });
  if (errors.length > 0) throw validationError("Invalid order data", errors);
  // Which states block updates is not documented; the terminal ones do.
  if (o.state_id === COMPLETED || o.state_id === CANCELLED) throw new ApiError(400, "update_error", "Cannot update order in current state");

  const previous = { state_id: o.state_id, state_name: o.state_name };
  const changed: string[] = [];
  if (body.assembly_date !== undefined && body.assembly_date !== o.assembly_date) {
    o.assembly_date = body.assembly_date as string;
    changed.push("assembly_date");
  }
  for (const f of ["customer_name", "shipping_address"] as const) {
    if (body[f] !== undefined && body[f] !== o[f]) {
      o[f] = body[f] as string | null;
      changed.push(f);
    }
  }
  if (body.state_id !== undefined && body.state_id !== o.state_id) {
    setState(ctx, o, body.state_id as number);
    if (o.state_id === CANCELLED) o.cancelled_by = "api";
    changed.push("state_id");
  }
  if (changed.length > 0) {
    o.updated_at = isoSeconds(ctx.now());
    ctx.emit("order/updated", {
      ...commonEventFields(o),
      previous_state_id: previous.state_id,
      previous_state_name: previous.state_name,
      updated_fields: changed,
    });
  }
  return {
    id: o.id,
    order_tenant_id: o.order_tenant_id,
    state_id: o.state_id,
    assembly_date: o.assembly_date,
    customer_name: o.customer_name,
    shipping_address: o.shipping_address,
    updated_at: o.updated_at,
  };
}

function setState(ctx: SandboxContext, o: SandboxOrder, stateId: number): void {
  o.state_id = stateId;
  o.state_name = stateName(stateId);
  // state_picking_id is undocumented; it is 1 ("picking completed") once the order is Completed.
  o.state_picking_id = stateId === COMPLETED ? 1 : null;
  if (stateId === 2 && !o.picking_started_at) o.picking_started_at = isoSeconds(ctx.now());
}

// ---------- cancel ----------

export function cancelOrder(ctx: SandboxContext, ref: string, rawBody: unknown): Record<string, unknown> {
  const body = requireObjectBody(rawBody);
  if (!optionalString(body.reason)) throw validationError("Invalid cancel data", [{ field: "reason", message: "Must be a string" }]);
  if (!optionalString(body.order_tenant_id))
    throw validationError("Invalid cancel data", [{ field: "order_tenant_id", message: "Must be a string" }]);
  let o = findOrder(ctx, ref);
  if (!o && typeof body.order_tenant_id === "string") o = findByTenant(ctx, body.order_tenant_id);
  if (!o) throw notFound("Order not found");
  const answer = { message: "Order cancelled successfully", order_id: ref };
  if (o.state_id === CANCELLED) return answer; // idempotent repeat: same answer, no second webhook
  if (o.state_id === COMPLETED) throw new ApiError(400, "cancel_error", "Cannot cancel order that is already completed");
  applyCancel(ctx, o, (body.reason as string | null | undefined) ?? null, "api");
  return answer;
}

function applyCancel(ctx: SandboxContext, o: SandboxOrder, reason: string | null, by: "api" | "warehouse"): void {
  setState(ctx, o, CANCELLED);
  o.cancellation_reason = reason;
  o.cancelled_by = by;
  o.updated_at = isoSeconds(ctx.now());
  ctx.emit("order/cancelled", { ...commonEventFields(o), cancellation_reason: o.cancellation_reason, cancelled_by: by });
}

// ---------- warehouse simulation ----------

const STATE_IDS_BY_NAME: Record<string, number> = { Pending: 1, "In Progress": 2, Packed: 3, Completed: 4, Cancelled: 5 };

/** A warehouse-side state change; any non-terminal order can move to any other state. */
export function advanceOrder(ctx: SandboxContext, ref: number | string, state: AdvanceState, opts: AdvanceOptions = {}): SandboxOrder {
  const o = findOrder(ctx, ref);
  if (!o) throw new Error(`Order ${String(ref)} not found`);
  const target = typeof state === "number" ? state : STATE_IDS_BY_NAME[state];
  if (target === undefined || !ORDER_STATES[target]) throw new Error(`Unknown order state ${String(state)}`);
  if (o.state_id === COMPLETED || o.state_id === CANCELLED) throw new Error(`Order ${o.id} is already ${o.state_name}`);
  if (target === o.state_id) return structuredClone(o);

  if (target === CANCELLED) {
    applyCancel(ctx, o, opts.reason ?? null, "warehouse");
    return structuredClone(o);
  }
  const previous = { state_id: o.state_id, state_name: o.state_name };
  setState(ctx, o, target);
  const nowMs = ctx.now();
  o.updated_at = isoSeconds(nowMs);
  if (target === COMPLETED) {
    for (const l of o.order_detail) l.picked_quantity = l.quantity;
    o.tracking_number = opts.trackingNumber ?? o.tracking_number;
    o.carrier = opts.carrier ?? o.carrier;
    const startedMs = Date.parse(o.picking_started_at ?? o.created_at);
    ctx.emit("order/completed", {
      ...commonEventFields(o),
      items_picked: o.order_detail.length,
      total_quantity_picked: totalQuantity(o),
      picked_by: "sandbox",
      duration_minutes: Math.max(0, Math.round((nowMs - startedMs) / 60_000)),
      tracking_number: o.tracking_number,
      carrier: o.carrier,
    });
  } else {
    ctx.emit("order/updated", {
      ...commonEventFields(o),
      previous_state_id: previous.state_id,
      previous_state_name: previous.state_name,
      updated_fields: ["state_id"],
    });
  }
  return structuredClone(o);
}
