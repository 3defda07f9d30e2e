// Echo suppression: changes the adapter makes through ctx.erp run on a RequestContext marked
// with the plugin's id. Vendure copies a RequestContext with Object.assign (transactions,
// event delivery after commit), which keeps own enumerable symbol properties, so the mark
// rides along to the event that the change publishes.
import type { RequestContext } from "@vendure/core";

const ORIGIN = Symbol.for("zenflow.vendure.origin");

export function markOrigin(ctx: RequestContext, pluginId: string): RequestContext {
  Object.defineProperty(ctx, ORIGIN, { value: pluginId, enumerable: true, configurable: true, writable: true });
  return ctx;
}

export function originOf(ctx: RequestContext | undefined): string | undefined {
  const v = ctx ? (ctx as unknown as Record<symbol, unknown>)[ORIGIN] : undefined;
  return typeof v === "string" ? v : undefined;
}
