// Webhook event names (docs §8.2). Subscriptions use the slash form; the ERP guide's
// dot form ("order.updated") can be chosen for delivery to test tolerant receivers.
import type { EventSpelling } from "./types";

export const EVENT_NAMES: readonly string[] = [
  "order/created",
  "order/updated",
  "order/cancelled",
  "order/completed",
  "product/created",
  "product/updated",
  "product/deleted",
  "stock/updated",
  "stock/low_alert",
  "stock/movement_created",
  "flow/started",
  "flow/completed",
  "flow/cancelled",
];

export function toSlash(event: string): string {
  return event.replace(".", "/");
}

export function spell(slashName: string, spelling: EventSpelling): string {
  return spelling === "dot" ? slashName.replace("/", ".") : slashName;
}
