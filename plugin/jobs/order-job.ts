// An ERP order to bring into line with ZenFlow (create, update, cancel). The job names the
// order; the worker reads its current state from the ERP when it sends. Keeping the row
// small keeps the ERP's event path fast and makes every send use the latest state.
import { z } from "zod";
import type { ErpOrder } from "../core/host-api";
import type { JobInput } from "./job";
import { entityKey, erpRefOf } from "./keys";
import { Priority } from "./priorities";

export const ORDER_KIND = "order";

export interface OrderJobPayload {
  orderId: string;
  cancel?: { reason?: string };
}

export const orderJobPayloadSchema = z.object({
  orderId: z.string().min(1),
  cancel: z.object({ reason: z.string().optional() }).optional(),
});

export function orderJob(order: Pick<ErpOrder, "id" | "number">, cancel?: { reason?: string }): JobInput {
  return {
    kind: ORDER_KIND,
    entityKey: entityKey.order(order.id),
    erpRef: erpRefOf(order.number),
    payload: { orderId: order.id, ...(cancel ? { cancel } : {}) } satisfies OrderJobPayload,
    priority: cancel ? Priority.cancel : Priority.order,
  };
}

/** A cancellation stays requested whatever later change to the order is merged in. */
export function mergeOrderPayloads(older: unknown, newer: unknown): OrderJobPayload {
  const o = (older ?? {}) as Partial<OrderJobPayload>;
  const n = newer as OrderJobPayload;
  const cancel = n.cancel ?? o.cancel;
  return { orderId: n.orderId, ...(cancel ? { cancel } : {}) };
}

/** How a routed order change reads on the order's timeline (zenflow_history, outcome "received"). */
export function describeOrderArrival(change: { eventId: string | null; payload: unknown; duplicate: boolean }): string {
  const cancel = !!(change.payload as Partial<OrderJobPayload> | null)?.cancel;
  const what = cancel ? "ERP cancellation" : "ERP change";
  // Without an event id the plugin queued it itself: the reconciliation, or a follow-up update.
  if (!change.eventId) return `${what} queued by the plugin (reconciliation or follow-up)`;
  if (change.duplicate) return `${what} event ${change.eventId} delivered again; dropped as a duplicate`;
  return `${what} received (event ${change.eventId})`;
}
