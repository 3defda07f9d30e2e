// Subscribes every handler the manifest lists. Handlers only record work (see types.ts).
import type { PluginContext } from "../plugin/host-api";
import { onOrderCancelled } from "./order-cancelled";
import { onOrderCreated } from "./order-created";
import { onOrderUpdated } from "./order-updated";
import type { HookDeps } from "./types";

export function subscribeHooks(events: PluginContext["events"], deps: HookDeps): () => void {
  const offs = [
    events.on("order.created", onOrderCreated(deps)),
    events.on("order.updated", onOrderUpdated(deps)),
    events.on("order.cancelled", onOrderCancelled(deps)),
  ];
  return () => offs.forEach((off) => off());
}

export type { HookDeps } from "./types";
