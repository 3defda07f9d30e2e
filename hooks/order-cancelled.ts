import type { ErpOrder, EventMeta } from "../plugin/core/host-api";
import { orderJob } from "../plugin/jobs/order-job";
import { type HookDeps, isOwnEcho } from "./types";

export function onOrderCancelled(deps: HookDeps) {
  return async (payload: { order: ErpOrder; reason?: string }, meta: EventMeta): Promise<void> => {
    // A cancellation that came from ZenFlow (applied through ctx.erp) must not be sent back.
    if (isOwnEcho(deps, meta)) return;
    const order = payload?.order;
    if (!order || typeof order.id !== "string" || !order.id) {
      deps.log.warn({ event: "order.cancelled", eventId: meta?.eventId }, "ignored a cancellation without an order id");
      return;
    }
    await deps.recorder.record(
      meta,
      orderJob(order, { reason: typeof payload.reason === "string" ? payload.reason.slice(0, 500) : undefined }),
    );
  };
}
