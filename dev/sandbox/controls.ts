// The in-process control surface of a sandbox (everything on Sandbox except the
// address and close()). Readers return copies so tests cannot mutate state by accident.
import type { SandboxContext } from "./context";
import { advanceOrder, findOrder } from "./orders";
import { findProductByBarcode, findProductById, findProductBySku } from "./products";
import { SandboxState } from "./state";
import { isKnownLocation, setQuantity, stockRows } from "./stock";
import type { Sandbox, SandboxProduct, StockRef } from "./types";

export type SandboxControls = Omit<Sandbox, "url" | "origin" | "port" | "close">;

export function createControls(ctx: SandboxContext): SandboxControls {
  return {
    orders: () => [...ctx.state.orders.values()].map((o) => structuredClone(o)),
    order: (ref) => {
      const o = findOrder(ctx, ref);
      return o ? structuredClone(o) : undefined;
    },
    products: () => [...ctx.state.products.values()].map((p) => ({ ...p })),
    stock: () => stockRows(ctx),
    movements: () => ctx.state.movements.map((m) => ({ ...m })),
    webhooks: () => ctx.state.webhooks.map((w) => ({ ...w, events: [...w.events] })),
    requests: () => ctx.requestLog.all(),
    deliveries: () => ctx.deliveries.map((d) => ({ ...d })),

    addKey: (k) => ctx.keys.add(k),
    setKeyStatus: (key, status) => ctx.keys.setStatus(key, status),
    setKeyScopes: (key, scopes) => ctx.keys.setScopes(key, scopes),
    setLimits: (l) => ctx.limiter.setLimits(l),
    setFaults: (f) => ctx.faults.setConfig(f),
    failNext: (n, kind, opts) => ctx.faults.failNext(n, kind, opts),
    setLatency: (ms) => {
      if (!Number.isFinite(ms) || ms < 0) throw new Error("Latency must be a non-negative number of milliseconds");
      ctx.latencyMs = ms;
    },

    advanceOrder: (ref, state, opts) => advanceOrder(ctx, ref, state, opts),
    setStock: (ref, locationId, quantity, reason) => {
      const product = resolveProduct(ctx, ref);
      if (!isKnownLocation(ctx, locationId)) throw new Error(`Unknown location ${locationId}`);
      if (!Number.isFinite(quantity) || quantity < 0) throw new Error("Quantity must be zero or positive");
      setQuantity(ctx, product, locationId, quantity, { reason: reason ?? "Warehouse count", source: "manual" });
    },

    emit: (event, data, opts) => ctx.dispatcher.emit(event, data, opts),
    deliverRaw: (url, body, headers) => ctx.dispatcher.deliverRaw(url, body, headers),
    redeliver: (eventId) => ctx.dispatcher.redeliver(eventId),
    sign: (secret, rawBody) => ctx.dispatcher.sign(secret, rawBody),
    idle: () => ctx.dispatcher.idle(),
    budgetReport: () => ctx.limiter.report(),

    reset: () => {
      ctx.dispatcher.reset();
      ctx.state = new SandboxState();
      ctx.requestLog.reset();
      ctx.deliveries = [];
      ctx.faults.reset();
      ctx.limiter.reset();
      ctx.latencyMs = 0;
    },
  };
}

export function resolveProduct(ctx: SandboxContext, ref: StockRef): SandboxProduct {
  const p =
    ref.productId !== undefined
      ? findProductById(ctx, ref.productId)
      : ref.sku !== undefined
        ? findProductBySku(ctx, ref.sku)
        : ref.barcode !== undefined
          ? findProductByBarcode(ctx, ref.barcode)
          : undefined;
  if (!p) throw new Error(`Product not found: ${JSON.stringify(ref)}`);
  return p;
}
