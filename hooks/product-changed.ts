import type { ErpProduct, EventMeta } from "../plugin/core/host-api";
import { productJob } from "../plugin/jobs/product-job";
import { type HookDeps, isOwnEcho } from "./types";

// product.created and product.updated: the synchronizer reads the product's current state
// and sends it only if ZenFlow does not already have that version.
export function onProductChanged(deps: HookDeps, event: "product.created" | "product.updated") {
  return async (product: ErpProduct, meta: EventMeta): Promise<void> => {
    if (isOwnEcho(deps, meta)) return;
    if (!product || typeof product.id !== "string" || !product.id) {
      deps.log.warn({ event, eventId: meta?.eventId }, "ignored a product event without a product id");
      return;
    }
    await deps.recorder.record(meta, productJob(product));
  };
}
