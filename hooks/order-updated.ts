import type { ErpOrder, EventMeta } from "../plugin/core/host-api";
import { orderJob } from "../plugin/jobs/order-job";
import { type HookDeps, isOwnEcho } from "./types";

// Any change (address, lines, status): the synchronizer compares the snapshot with what
// ZenFlow has and decides whether to create, update or do nothing.
export function onOrderUpdated(deps: HookDeps) {
  return async (order: ErpOrder, meta: EventMeta): Promise<void> => {
    if (isOwnEcho(deps, meta)) return;
    if (!order || typeof order.id !== "string" || !order.id) {
      deps.log.warn({ event: "order.updated", eventId: meta?.eventId }, "ignored an order event without an order id");
      return;
    }
    await deps.recorder.record(meta, orderJob(order));
  };
}
