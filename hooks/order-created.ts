import type { ErpOrder, EventMeta } from "../plugin/core/host-api";
import { orderJob } from "../plugin/jobs/order-job";
import { type HookDeps, isOwnEcho } from "./types";

export function onOrderCreated(deps: HookDeps) {
  return async (order: ErpOrder, meta: EventMeta): Promise<void> => {
    if (isOwnEcho(deps, meta)) return;
    if (!order || typeof order.id !== "string" || !order.id) {
      deps.log.warn({ event: "order.created", eventId: meta?.eventId }, "ignored an order event without an order id");
      return;
    }
    await deps.recorder.record(meta, orderJob(order));
  };
}
