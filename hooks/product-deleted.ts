import type { EventMeta } from "../plugin/core/host-api";
import { productJob } from "../plugin/jobs/product-job";
import { type HookDeps, isOwnEcho } from "./types";

// The product is gone from the ERP: its SKU travels with the job so ZenFlow's copy can be found.
export function onProductDeleted(deps: HookDeps) {
  return async (payload: { id: string; sku: string }, meta: EventMeta): Promise<void> => {
    if (isOwnEcho(deps, meta)) return;
    if (!payload || typeof payload.id !== "string" || typeof payload.sku !== "string") {
      deps.log.warn({ event: "product.deleted", eventId: meta?.eventId }, "ignored a product deletion without id and SKU");
      return;
    }
    await deps.recorder.record(meta, productJob(payload, true));
  };
}
