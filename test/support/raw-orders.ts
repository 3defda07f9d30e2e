// ERP orders the reference host's own API would refuse, written straight into its table and
// announced as order.created: what a buggy or hostile ERP could hand the plugin. And the
// check that what reached ZenFlow is a well-formed order.
import { randomUUID } from "node:crypto";
import type { Stack } from "./stack";

/** Stores `order` as the host's row (JSON columns as given, however odd) and emits order.created. Returns the id. */
export async function insertRawOrder(stack: Stack, order: Record<string, unknown>): Promise<string> {
  const id = typeof order.id === "string" && order.id ? order.id : `ord_${randomUUID()}`;
  await stack.db.knex("erp_orders").insert(hostOrderRow(id, order, new Date().toISOString()));
  const stored = await stack.main.host.erp.getOrder(id);
  await stack.main.host.erp.emit("order.created", stored);
  return id;
}

/** The reference host's erp_orders row for `order` (JSON columns as given, however odd). */
export function hostOrderRow(id: string, order: Record<string, unknown>, now: string): Record<string, unknown> {
  const json = (v: unknown) => JSON.stringify(v === undefined ? null : v);
  const str = (v: unknown, fallback: string) => (typeof v === "string" ? v : fallback);
  return {
    id,
    number: str(order.number, `RAW-${id}`).slice(0, 255),
    status: str(order.status, "awaiting_fulfillment"),
    ship_by_date: typeof order.shipByDate === "string" ? order.shipByDate.slice(0, 32) : null,
    customer: json(order.customer),
    shipping_address: json(order.shippingAddress),
    items: json(order.items),
    currency: "ARS",
    notes: null,
    shipped_at: null,
    tracking_number: null,
    carrier: null,
    updated_origin: null,
    created_at: str(order.createdAt, now).slice(0, 40),
    updated_at: now,
  };
}

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** What is wrong with one order as ZenFlow received it (empty when it is well formed). */
export function wellFormedOrder(o: unknown): string[] {
  const p: string[] = [];
  const x = (o ?? {}) as Record<string, unknown>;
  const id = x.order_tenant_id;
  if (typeof id !== "string" || !id || id.length > 100 || CONTROL.test(id) || id !== id.trim()) p.push("order_tenant_id");
  if (typeof x.assembly_date !== "string" || !/^\d{4}-\d{2}-\d{2}$/.test(x.assembly_date)) p.push("assembly_date");
  for (const f of ["customer_name", "shipping_address"])
    if (typeof x[f] !== "string" || !(x[f] as string).trim() || CONTROL.test(x[f] as string)) p.push(f);
  const lines = x.order_detail;
  if (!Array.isArray(lines) || !lines.length) p.push("order_detail");
  else
    lines.forEach((l: Record<string, unknown>, i) => {
      if (typeof l.barcode !== "string" || !l.barcode || CONTROL.test(l.barcode)) p.push(`order_detail[${i}].barcode`);
      if (typeof l.quantity !== "number" || !Number.isInteger(l.quantity) || l.quantity <= 0 || l.quantity > 1_000_000)
        p.push(`order_detail[${i}].quantity`);
      if ("price" in l && (typeof l.price !== "number" || !Number.isFinite(l.price) || l.price < 0)) p.push(`order_detail[${i}].price`);
    });
  return p;
}
