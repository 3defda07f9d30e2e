// ERP order → ZenFlow order payload (pure). Every problem is collected and reported
// with the field and what to do, so an admin can fix the order in the ERP.
import type { ErpOrder } from "../core/host-api";
import { type FieldProblem, MappingError } from "../core/errors";
import type { ZenflowOrderPatch, ZenflowOrderPayload } from "../zenflow/client";
import { dateAsWritten, isCalendarDate } from "./dates";
import { hashOf } from "./hash";

const DECIMAL_RE = /^\d+(\.\d+)?$/;

export function formatAddress(a: ErpOrder["shippingAddress"] | undefined): string {
  if (!a) return "";
  const cityLine = [a.city, [a.state, a.postalCode].filter(Boolean).join(" ")].filter((s) => s && String(s).trim()).join(", ");
  return [a.line1, a.line2, cityLine, a.country]
    .map((s) => (typeof s === "string" ? s.trim() : ""))
    .filter(Boolean)
    .join(", ");
}

export interface MappedOrder {
  payload: ZenflowOrderPayload;
  /** Hash of the fields PUT /orders/:id can change. */
  headerHash: string;
  /** Hash of the lines, which ZenFlow cannot change after creation. */
  linesHash: string;
}

export function orderLabel(order: Partial<ErpOrder> | null | undefined): string {
  return `Order ${order?.number || order?.id || "(no number)"}`;
}

export function toZenflowOrder(order: ErpOrder): MappedOrder {
  const problems: FieldProblem[] = [];
  const tenantId = typeof order.number === "string" ? order.number.trim() : "";
  if (!tenantId) problems.push({ field: "number", message: "is empty: the order needs an order number" });
  else if (tenantId.length > 100) problems.push({ field: "number", message: "is longer than 100 characters" });

  let assemblyDate: string | null = null;
  if (order.shipByDate === null || order.shipByDate === undefined || order.shipByDate === "") {
    // ZenFlow requires a date; without a ship-by date the order is due the day it was placed.
    assemblyDate = typeof order.createdAt === "string" ? dateAsWritten(order.createdAt) : null;
    if (!assemblyDate) problems.push({ field: "shipByDate", message: "is missing and the creation date is unreadable" });
  } else if (isCalendarDate(order.shipByDate)) {
    assemblyDate = order.shipByDate;
  } else {
    problems.push({ field: "shipByDate", message: `"${String(order.shipByDate).slice(0, 40)}" is not a valid date (expected YYYY-MM-DD)` });
  }

  const items = Array.isArray(order.items) ? order.items : [];
  if (!items.length) problems.push({ field: "items", message: "is empty: the order has no lines to fulfil" });
  const lines = items.map((item, i) => {
    const where = `items[${i}]${item?.sku ? ` (${item.sku})` : ""}`;
    const barcode = (typeof item?.barcode === "string" && item.barcode.trim()) || (typeof item?.sku === "string" && item.sku.trim()) || "";
    if (!barcode) problems.push({ field: where, message: "has neither a barcode nor a SKU" });
    const qty = item?.quantity;
    if (typeof qty !== "number" || !Number.isFinite(qty)) problems.push({ field: `${where}.quantity`, message: "is not a number" });
    else if (qty <= 0) problems.push({ field: `${where}.quantity`, message: `is ${qty}: quantities must be greater than zero` });
    let price: number | undefined;
    if (item?.unitPrice !== undefined && item?.unitPrice !== null && item?.unitPrice !== "") {
      const raw = String(item.unitPrice).trim();
      if (!DECIMAL_RE.test(raw))
        problems.push({ field: `${where}.unitPrice`, message: `"${raw.slice(0, 20)}" is not a non-negative decimal amount` });
      else price = Number(raw);
    }
    return { barcode, quantity: qty as number, ...(price !== undefined ? { price } : {}) };
  });

  if (problems.length) throw new MappingError(orderLabel(order), problems);

  const header = {
    assembly_date: assemblyDate!,
    customer_name: order.customer?.name?.trim() || undefined,
    shipping_address: formatAddress(order.shippingAddress) || undefined,
  };
  const payload: ZenflowOrderPayload = { order_tenant_id: tenantId, ...header, order_detail: lines };
  return { payload, headerHash: hashOf(header), linesHash: hashOf(lines) };
}

/** The header fields to PUT, given what was sent before (undefined → nothing to send). */
export function headerPatch(mapped: MappedOrder): ZenflowOrderPatch {
  const { assembly_date, customer_name, shipping_address } = mapped.payload;
  return { assembly_date, customer_name, shipping_address };
}
