// Subscribes every handler the manifest lists. Handlers only record work (see types.ts).
import type { PluginContext } from "../plugin/core/host-api";
import { onOrderCancelled } from "./order-cancelled";
import { onOrderCreated } from "./order-created";
import { onOrderUpdated } from "./order-updated";
import { onProductChanged } from "./product-changed";
import { onProductDeleted } from "./product-deleted";
import { onStockChanged } from "./stock-changed";
import type { HookDeps } from "./types";

export function subscribeHooks(events: PluginContext["events"], deps: HookDeps): () => void {
  const offs = [
    events.on("order.created", onOrderCreated(deps)),
    events.on("order.updated", onOrderUpdated(deps)),
    events.on("order.cancelled", onOrderCancelled(deps)),
    events.on("product.created", onProductChanged(deps, "product.created")),
    events.on("product.updated", onProductChanged(deps, "product.updated")),
    events.on("product.deleted", onProductDeleted(deps)),
    events.on("stock.changed", onStockChanged(deps)),
  ];
  return () => offs.forEach((off) => off());
}

export type { HookDeps } from "./types";
