// A ZenFlow event as a row of zenflow_inbox: what the webhook receiver and the status
// backstop write, so both feed the same synchronizers with the same ordering and dedupe.
import { boundedId, entityKey } from "./keys";
import { Priority } from "./priorities";

export type InboxKind = "order" | "stock" | "ignored";

/** Which synchronizer handles an event; everything else is stored as ignored (visible, harmless). */
export function kindOf(event: string, stockFromZenflow: boolean): InboxKind {
  if (event === "order/updated" || event === "order/completed" || event === "order/cancelled") return "order";
  if (event === "stock/updated" && stockFromZenflow) return "stock";
  return "ignored";
}

/** The entity an event is about, so events of one order (or stock row) apply in order. */
export function entityOf(kind: InboxKind, data: Record<string, unknown>): string | null {
  if (kind === "order") {
    const ref = data.order_tenant_id ?? data.order_id;
    return ref === undefined || ref === null ? null : entityKey.inboxOrder(String(ref));
  }
  if (kind === "stock") {
    const p = data.sku ?? data.product_barcode ?? data.product_id;
    return p === undefined || p === null ? null : entityKey.inboxStock(String(p), String(data.location_id ?? ""));
  }
  return null;
}

export interface InboxEvent {
  eventId: string;
  /** Slash form, e.g. order/updated. */
  event: string;
  kind: InboxKind;
  entityKey: string | null;
  /** ZenFlow's time for the event (epoch ms), when it gave one. */
  zenflowCreatedAt: number | null;
  /** The envelope as JSON text. */
  payload: string;
  /** Default: order events before stock events. */
  priority?: number;
}

/**
 * The row to insert. Every string is bounded here, whatever the caller passed, so the insert
 * can never be cut by the database (nor turned into a warning by a non-strict server).
 */
export function toInboxRow(e: InboxEvent, now: number): Record<string, unknown> {
  const ignored = e.kind === "ignored";
  return {
    event_id: boundedId(e.eventId, 128),
    event: boundedId(e.event, 64),
    kind: e.kind,
    entity_key: e.entityKey,
    zenflow_created_at: e.zenflowCreatedAt,
    payload: e.payload,
    status: ignored ? "ignored" : "pending",
    priority: e.priority ?? (e.kind === "order" ? Priority.order : Priority.stock),
    attempts: 0,
    rerun: false,
    run_at: now,
    created_at: now,
    updated_at: now,
    finished_at: ignored ? now : null,
  };
}
