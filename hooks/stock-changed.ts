import type { ErpEventMap, EventMeta } from "../plugin/core/host-api";
import { stockJob } from "../plugin/jobs/stock-job";
import { type HookDeps, isOwnEcho } from "./types";

// Only when the ERP owns stock. A change the plugin made (applying ZenFlow's level) carries
// our origin and is never pushed back: that would be an echo loop.
export function onStockChanged(deps: HookDeps) {
  return async (change: ErpEventMap["stock.changed"], meta: EventMeta): Promise<void> => {
    if (isOwnEcho(deps, meta)) return;
    if (deps.config()?.stockSource !== "erp") return;
    if (!change || typeof change.sku !== "string" || typeof change.locationId !== "string") {
      deps.log.warn({ event: "stock.changed", eventId: meta?.eventId }, "ignored a stock change without SKU and location");
      return;
    }
    await deps.recorder.record(meta, stockJob({ sku: change.sku, locationId: change.locationId, quantity: change.quantity }));
  };
}
