// The webhook envelope `{id, event, created_at, data}` (zenflow-api.md §8.5), validated
// after the signature. Event names arrive as `order/updated` (API reference) or
// `order.updated` (ERP guide); both are accepted and stored in the slash form.
import { z } from "zod";

export const envelopeSchema = z.object({
  id: z.string().min(1).max(128),
  event: z.string().min(1).max(64),
  created_at: z.string().min(1).max(64),
  data: z.record(z.string(), z.unknown()),
});
export type Envelope = z.output<typeof envelopeSchema>;

export function normalizeEvent(name: string): string {
  return name.trim().toLowerCase().replace(".", "/");
}

export type InboxKind = "order" | "stock" | "ignored";

/** Which synchronizer handles an event; everything else is stored as ignored (visible, harmless). */
export function kindOf(event: string, stockFromZenflow: boolean): InboxKind {
  if (event === "order/updated" || event === "order/completed" || event === "order/cancelled") return "order";
  if (event === "stock/updated" && stockFromZenflow) return "stock";
  return "ignored";
}

/** The entity an event is about, so events of one order apply in order. */
export function entityOf(kind: InboxKind, data: Record<string, unknown>): string | null {
  if (kind === "order") {
    const ref = data.order_tenant_id ?? data.order_id;
    return ref === undefined || ref === null ? null : `order:${String(ref)}`.slice(0, 191);
  }
  if (kind === "stock") {
    const p = data.sku ?? data.product_barcode ?? data.product_id;
    return p === undefined || p === null ? null : `stock:${String(p)}@${String(data.location_id ?? "")}`.slice(0, 191);
  }
  return null;
}

/** Epoch ms of an ISO timestamp, or null. */
export function instant(v: unknown): number | null {
  if (typeof v !== "string") return null;
  const t = Date.parse(v);
  return Number.isFinite(t) ? t : null;
}
