// Vendure's EventBus → the contract's events. Vendure delivers `ofType` subscribers after the
// transaction commits, in the process that made the change, which is what the contract asks.
// Each Vendure event is mapped here (the order or variant read fresh, so the payload is the
// committed state), given a new eventId, its origin when our own ctx.erp made the change,
// and handed to the EventHub, which awaits the handlers and swallows their failures.
import { randomUUID } from "node:crypto";
import {
  type EventBus,
  OrderEvent,
  OrderLineEvent,
  OrderPlacedEvent,
  OrderStateTransitionEvent,
  ProductEvent,
  ProductVariantEvent,
  StockMovementEvent,
  type RequestContext,
  type Type,
  type VendureEvent,
} from "@vendure/core";
import type { Subscription } from "rxjs";
import type { ErpApi, ErpEventMap, ErpEventName, EventMeta, PluginLogger } from "zenflow-erp-plugin/host-api";
import type { EventHub } from "./event-hub";
import { originOf } from "./origin";
import type { VendureAccess } from "./vendure-access";

/** Transitions out of these states are a cart becoming an order: OrderPlacedEvent covers them. */
const BEFORE_PLACEMENT = new Set(["Created", "Draft", "AddingItems", "ArrangingPayment"]);
/** Stock movements that change stockOnHand (allocations and releases only reserve stock). */
const ON_HAND_MOVEMENTS = new Set(["ADJUSTMENT", "SALE", "CANCELLATION", "RETURN"]);

export interface EventBridgeDeps {
  bus: EventBus;
  hub: EventHub;
  erp: ErpApi;
  access: VendureAccess;
  log: PluginLogger;
}

export function bridgeVendureEvents(d: EventBridgeDeps): () => void {
  const subs: Subscription[] = [];
  const meta = (event: VendureEvent, ctx: RequestContext | undefined): EventMeta => {
    const origin = originOf(ctx);
    return { eventId: randomUUID(), occurredAt: event.createdAt.toISOString(), ...(origin ? { origin } : {}) };
  };
  const emit = <E extends ErpEventName>(name: E, payload: ErpEventMap[E], m: EventMeta) => d.hub.emit(name, payload, m);
  // Never let a mapping failure (a deleted row, a database blip) escape into Vendure.
  const on = <T extends VendureEvent>(type: Type<T>, handle: (e: T) => Promise<void>) => {
    subs.push(
      d.bus.ofType(type).subscribe((event) => {
        handle(event).catch((err: unknown) => d.log.error({ err, event: type.name }, "could not pass a Vendure event to the ZenFlow plugin"));
      }),
    );
  };

  const orderEvent = async (name: "order.created" | "order.updated", orderId: string, m: EventMeta) => {
    if (!d.hub.wants(name)) return;
    const order = await d.erp.orders.get(orderId);
    if (order) await emit(name, order, m);
  };

  on(OrderPlacedEvent, (e) => orderEvent("order.created", String(e.order.id), meta(e, e.ctx)));
  on(OrderStateTransitionEvent, async (e) => {
    if (e.toState === "Cancelled") {
      if (!d.hub.wants("order.cancelled")) return;
      const order = await d.erp.orders.get(String(e.order.id));
      if (order) await emit("order.cancelled", { order }, meta(e, e.ctx));
      return;
    }
    if (BEFORE_PLACEMENT.has(e.fromState)) return;
    await orderEvent("order.updated", String(e.order.id), meta(e, e.ctx));
  });
  // Modifications, address and custom-field changes; ignored for carts (get() only returns placed orders).
  on(OrderEvent, async (e) => {
    if (e.type === "updated" && e.order.orderPlacedAt) await orderEvent("order.updated", String(e.order.id), meta(e, e.ctx));
  });
  on(OrderLineEvent, async (e) => {
    if (e.order.orderPlacedAt) await orderEvent("order.updated", String(e.order.id), meta(e, e.ctx));
  });

  on(ProductVariantEvent, async (e) => {
    for (const variant of e.entity) {
      const m = meta(e, e.ctx);
      if (e.type === "deleted") await emit("product.deleted", { id: String(variant.id), sku: variant.sku }, m);
      else {
        const name = e.type === "created" ? "product.created" : "product.updated";
        if (!d.hub.wants(name)) continue;
        const product = await d.erp.products.get(String(variant.id));
        if (product) await emit(name, product, m);
      }
    }
  });
  // A product's own changes (enabled, name) change what its variants look like to ZenFlow.
  on(ProductEvent, async (e) => {
    if (e.type === "created") return;
    const table = d.access.table("product_variant");
    const rows = (await d.access.db(table).where({ productId: e.entity.id }).select("id", "sku")) as { id: number; sku: string }[];
    for (const row of rows) {
      const m = meta(e, e.ctx);
      if (e.type === "deleted") await emit("product.deleted", { id: String(row.id), sku: row.sku }, m);
      else {
        const product = await d.erp.products.get(String(row.id));
        if (product) await emit("product.updated", product, m);
      }
    }
  });

  on(StockMovementEvent, async (e) => {
    if (!d.hub.wants("stock.changed")) return;
    const deltas = new Map<string, { variantId: string; locationId: string; delta: number }>();
    for (const mv of e.stockMovements) {
      if (!ON_HAND_MOVEMENTS.has(String(mv.type))) continue;
      const variantId = String(mv.productVariant?.id ?? (mv as { productVariantId?: unknown }).productVariantId ?? "");
      const locationId = String(mv.stockLocation?.id ?? mv.stockLocationId ?? "");
      if (!variantId || !locationId) continue;
      const key = `${variantId}@${locationId}`;
      const entry = deltas.get(key) ?? { variantId, locationId, delta: 0 };
      entry.delta += mv.quantity;
      deltas.set(key, entry);
    }
    const levels = d.access.table("stock_level");
    const variants = d.access.table("product_variant");
    for (const { variantId, locationId, delta } of deltas.values()) {
      const row = (await d.access
        .db(levels)
        .join(variants, `${variants}.id`, `${levels}.productVariantId`)
        .where(`${levels}.productVariantId`, Number(variantId))
        .andWhere(`${levels}.stockLocationId`, Number(locationId))
        .first({ sku: `${variants}.sku`, quantity: `${levels}.stockOnHand` })) as { sku: string; quantity: number | string } | undefined;
      if (!row) continue;
      const quantity = Number(row.quantity);
      await emit(
        "stock.changed",
        { sku: row.sku, locationId, quantity, previousQuantity: quantity - delta, reason: String(e.type).toLowerCase() },
        meta(e, e.ctx),
      );
    }
  });

  return () => subs.splice(0).forEach((s) => s.unsubscribe());
}
