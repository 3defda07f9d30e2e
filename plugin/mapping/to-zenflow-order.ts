// ERP order → ZenFlow order payload (pure). Every problem is collected and reported
// with the field and what to do, so an admin can fix the order in the ERP. Nothing that
// leaves here is malformed: the idempotency key has no control characters, quantities are
// whole numbers of units within MAX_QUANTITY, prices are finite amounts, and free text
// carries no control characters (they become spaces).
import type { ErpOrder } from "../core/host-api";
import { type FieldProblem, MappingError } from "../core/errors";
import { hasControl, spaceControls } from "../core/text";
import type { ZenflowOrderPatch, ZenflowOrderPayload } from "../zenflow/client";
import { dateAsWritten, isCalendarDate } from "./dates";
import { hashOf } from "./hash";

/** A price ZenFlow can hold exactly as a JSON number: up to 12 digits before the point, 4 after. */
const DECIMAL_RE = /^\d{1,12}(\.\d{1,4})?$/;
/** The most units one order line may ask for. */
export const MAX_QUANTITY = 1_000_000;
const MAX_TENANT_ID = 100;

/** Free text for ZenFlow: trimmed, control characters (CR, LF, NUL, ESC …) turned into single spaces. */
function text(v: unknown): string {
  return typeof v === "string" ? spaceControls(v).trim() : "";
}

export function formatAddress(a: ErpOrder["shippingAddress"] | undefined): string {
  if (!a || typeof a !== "object") return "";
  const cityLine = [text(a.city), [text(a.state), text(a.postalCode)].filter(Boolean).join(" ")].filter(Boolean).join(", ");
  return [text(a.line1), text(a.line2), cityLine, text(a.country)].filter(Boolean).join(", ");
}

export interface MappedOrder {
  payload: ZenflowOrderPayload;
  /** Hash of the fields PUT /orders/:id can change. */
  headerHash: string;
  /** Hash of the lines, which ZenFlow cannot change after creation. */
  linesHash: string;
}

export function orderLabel(order: Partial<ErpOrder> | null | undefined): string {
  const ref = typeof order?.number === "string" && order.number.trim() ? order.number : typeof order?.id === "string" ? order.id : "";
  return `Order ${text(ref).slice(0, 100) || "(no number)"}`;
}

/** "is not text" for a value that should be a string, else null. */
function notText(v: unknown): string | null {
  return v === undefined || v === null || typeof v === "string" ? null : `is not text (${Array.isArray(v) ? "array" : typeof v})`;
}

function checkTenantId(number: unknown, problems: FieldProblem[]): string {
  if (typeof number !== "string") {
    problems.push({ field: "number", message: number == null ? "is missing: the order needs an order number" : "is not text" });
    return "";
  }
  const tenantId = number.trim();
  if (!tenantId) problems.push({ field: "number", message: "is empty: the order needs an order number" });
  else if (tenantId.length > MAX_TENANT_ID) problems.push({ field: "number", message: `is longer than ${MAX_TENANT_ID} characters` });
  // The number is ZenFlow's idempotency key: a NUL, CR or LF in it would make it another key.
  else if (hasControl(tenantId))
    problems.push({ field: "number", message: "contains a control character (NUL, CR, LF, tab …): remove it" });
  return tenantId;
}

function checkParties(order: ErpOrder, problems: FieldProblem[]): void {
  const customer = order.customer as unknown;
  if (!customer || typeof customer !== "object")
    problems.push({ field: "customer", message: "is missing: ZenFlow needs the customer's name" });
  else {
    const name = (customer as Record<string, unknown>).name;
    const wrong = notText(name);
    if (wrong) problems.push({ field: "customer.name", message: wrong });
    else if (!text(name)) problems.push({ field: "customer.name", message: "is empty: ZenFlow needs the customer's name" });
  }
  const address = order.shippingAddress as unknown;
  if (!address || typeof address !== "object") {
    problems.push({ field: "shippingAddress", message: "is missing: ZenFlow needs where to ship the order" });
    return;
  }
  const a = address as Record<string, unknown>;
  for (const part of ["line1", "line2", "city", "state", "postalCode", "country"]) {
    const wrong = notText(a[part]);
    if (wrong) problems.push({ field: `shippingAddress.${part}`, message: wrong });
  }
  for (const part of ["line1", "city"])
    if (!notText(a[part]) && !text(a[part])) problems.push({ field: `shippingAddress.${part}`, message: "is empty" });
}

type Line = ZenflowOrderPayload["order_detail"][number];

function mapLine(item: ErpOrder["items"][number], i: number, problems: FieldProblem[]): Line {
  const it = (item && typeof item === "object" ? item : {}) as Record<string, unknown>;
  const sku = typeof it.sku === "string" ? it.sku.trim() : "";
  const where = `items[${i}]${sku ? ` (${text(sku).slice(0, 60)})` : ""}`;
  const barcode = (typeof it.barcode === "string" && it.barcode.trim()) || sku;
  for (const f of ["sku", "barcode"]) {
    const wrong = notText(it[f]);
    if (wrong) problems.push({ field: `${where}.${f}`, message: wrong });
  }
  if (!barcode) problems.push({ field: where, message: "has neither a barcode nor a SKU" });
  else if (hasControl(barcode)) problems.push({ field: `${where}.barcode`, message: "contains a control character" });
  const qty = it.quantity;
  if (typeof qty !== "number" || !Number.isFinite(qty)) problems.push({ field: `${where}.quantity`, message: "is not a number" });
  else if (qty <= 0) problems.push({ field: `${where}.quantity`, message: `is ${qty}: quantities must be greater than zero` });
  else if (!Number.isInteger(qty)) problems.push({ field: `${where}.quantity`, message: `is ${qty}: quantities must be whole units` });
  else if (qty > MAX_QUANTITY)
    problems.push({ field: `${where}.quantity`, message: `is ${qty}: more than ${MAX_QUANTITY.toLocaleString("en")} units on one line` });
  let price: number | undefined;
  const unitPrice = it.unitPrice;
  if (unitPrice !== undefined && unitPrice !== null && unitPrice !== "") {
    const raw = typeof unitPrice === "string" || typeof unitPrice === "number" ? String(unitPrice).trim() : "";
    if (!DECIMAL_RE.test(raw))
      problems.push({
        field: `${where}.unitPrice`,
        message: `"${text(raw).slice(0, 20)}" is not a non-negative decimal amount ZenFlow can take (at most 12 digits before the point and 4 after)`,
      });
    else price = Number(raw);
  }
  return { barcode, quantity: qty as number, ...(price !== undefined ? { price } : {}) };
}

export function toZenflowOrder(order: ErpOrder): MappedOrder {
  const problems: FieldProblem[] = [];
  const tenantId = checkTenantId(order.number, problems);

  let assemblyDate: string | null = null;
  if (order.shipByDate === null || order.shipByDate === undefined || order.shipByDate === "") {
    // ZenFlow requires a date; without a ship-by date the order is due the day it was placed.
    assemblyDate = typeof order.createdAt === "string" ? dateAsWritten(order.createdAt) : null;
    if (!assemblyDate) problems.push({ field: "shipByDate", message: "is missing and the creation date is unreadable" });
  } else if (typeof order.shipByDate === "string" && isCalendarDate(order.shipByDate)) {
    assemblyDate = order.shipByDate;
  } else {
    problems.push({
      field: "shipByDate",
      message: `"${text(String(order.shipByDate)).slice(0, 40)}" is not a valid date (expected YYYY-MM-DD)`,
    });
  }
  checkParties(order, problems);

  const items = Array.isArray(order.items) ? order.items : [];
  if (!items.length) problems.push({ field: "items", message: "is empty: the order has no lines to fulfil" });
  const lines = items.map((item, i) => mapLine(item, i, problems));

  if (problems.length) throw new MappingError(orderLabel(order), problems);

  const header = {
    assembly_date: assemblyDate!,
    customer_name: text(order.customer.name),
    shipping_address: formatAddress(order.shippingAddress),
  };
  const payload: ZenflowOrderPayload = { order_tenant_id: tenantId, ...header, order_detail: lines };
  return { payload, headerHash: hashOf(header), linesHash: hashOf(lines) };
}

/** The header fields to PUT, given what was sent before (undefined → nothing to send). */
export function headerPatch(mapped: MappedOrder): ZenflowOrderPatch {
  const { assembly_date, customer_name, shipping_address } = mapped.payload;
  return { assembly_date, customer_name, shipping_address };
}
