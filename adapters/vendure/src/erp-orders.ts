// ctx.erp.orders over Vendure's OrderService and order process. Statuses are Vendure order
// states; "Shipped"/"Delivered" need fulfilments, so setStatus to those goes through
// markShipped; "Cancelled" goes through cancel. Every write is idempotent and runs on a
// context marked as ours (see origin.ts).
import { Fulfillment, Order, type OrderState, type RequestContext } from "@vendure/core";
import type { ErpApi, ErpOrder } from "zenflow-erp-plugin/host-api";
import { ErpError, guarded, isErrorResult } from "./erp-error";
import { ZENFLOW_FULFILLMENT_HANDLER } from "./fulfillment-handler";
import { toErpOrder } from "./mapping";
import { clampLimit, keysetPage, storedDatetime } from "./paging";
import type { VendureAccess } from "./vendure-access";

const SHIPPED_STATES = new Set(["Shipped", "PartiallyDelivered", "Delivered"]);
const FULFILMENT_DONE = new Set(["Shipped", "Delivered", "Cancelled"]);

function orderId(id: string): number {
  if (!/^\d+$/.test(id)) throw new ErpError("not_found", `no order with id ${id}`);
  return Number(id);
}

export function vendureOrders(v: VendureAccess): ErpApi["orders"] {
  const map = (o: Order) => toErpOrder(o, { barcodeField: v.barcodeField, moneyPrecision: v.moneyPrecision });

  /** Placed orders only: active carts and unplaced drafts are not orders for a warehouse. */
  async function load(ctx: RequestContext, id: string): Promise<Order | undefined> {
    if (!/^\d+$/.test(id)) return undefined;
    const order = await v.orders.findOne(ctx, id);
    return order && order.orderPlacedAt ? order : undefined;
  }

  async function mustLoad(ctx: RequestContext, id: string): Promise<Order> {
    const order = await load(ctx, id);
    if (!order) throw new ErpError("not_found", `no order with id ${id}`);
    return order;
  }

  async function addNote(ctx: RequestContext, id: string, note: string): Promise<void> {
    await v.orders.addNoteToOrder(ctx, { id: orderId(id), note, isPublic: false });
  }

  async function ship(ctx: RequestContext, id: string, s: { trackingNumber?: string; carrier?: string }, final: "Shipped" | "Delivered"): Promise<void> {
    const order = await v.connection.getEntityOrThrow(ctx, Order, orderId(id), {
      relations: ["lines", "fulfillments", "fulfillments.lines"],
    });
    if (order.state === "Cancelled") throw new ErpError("conflict", `order ${order.code} is cancelled and cannot be shipped`);
    if (order.state === final || (final === "Shipped" && SHIPPED_STATES.has(order.state))) return;
    const live = (order.fulfillments ?? []).filter((f) => f.state !== "Cancelled");
    const fulfilled = new Map<string, number>();
    for (const f of live) for (const l of f.lines ?? []) fulfilled.set(String(l.orderLineId), (fulfilled.get(String(l.orderLineId)) ?? 0) + l.quantity);
    const lines = order.lines
      .map((l) => ({ orderLineId: l.id, quantity: l.quantity - (fulfilled.get(String(l.id)) ?? 0) }))
      .filter((l) => l.quantity > 0);
    const pending: Fulfillment[] = live.filter((f) => !FULFILMENT_DONE.has(f.state));
    if (lines.length) {
      const created = await v.orders.createFulfillment(ctx, {
        lines,
        handler: {
          code: ZENFLOW_FULFILLMENT_HANDLER.code,
          arguments: [
            { name: "method", value: s.carrier ?? "" },
            { name: "trackingCode", value: s.trackingNumber ?? "" },
          ],
        },
      });
      if (isErrorResult(created)) throw new ErpError("conflict", `cannot fulfil order ${order.code}: ${created.message}`);
      pending.push(created as Fulfillment);
    }
    for (const f of pending) {
      for (const state of final === "Delivered" ? (["Shipped", "Delivered"] as const) : (["Shipped"] as const)) {
        if (f.state === state) continue;
        const r = await v.orders.transitionFulfillmentToState(ctx, f.id, state);
        if (isErrorResult(r)) throw new ErpError("conflict", `cannot mark order ${order.code} ${state.toLowerCase()}: ${r.message}`);
        f.state = state;
      }
    }
  }

  async function cancel(ctx: RequestContext, id: string, reason: string): Promise<void> {
    const order = await mustLoad(ctx, id);
    if (order.state === "Cancelled") return;
    if (SHIPPED_STATES.has(order.state)) throw new ErpError("conflict", `order ${order.code} is already ${order.state.toLowerCase()}`);
    const r = await v.orders.cancelOrder(ctx, { orderId: order.id, reason, cancelShipping: true });
    if (isErrorResult(r)) throw new ErpError("conflict", `cannot cancel order ${order.code}: ${r.message}`);
  }

  function knownState(status: string): boolean {
    return v.orders.getOrderProcessStates().some((s) => s.name === status);
  }

  return {
    get: (id) => guarded(async () => {
      const order = await load(await v.readCtx(), id);
      return order ? map(order) : null;
    }),

    findByNumber: (number) => guarded(async () => {
      const ctx = await v.readCtx();
      const order = await v.orders.findOneByCode(ctx, number);
      return order && order.orderPlacedAt ? map(order) : null;
    }),

    list: (q) => guarded(async () => {
      const limit = clampLimit(q.limit);
      const table = v.table("order");
      const base = v.db(table).whereNotNull(`${table}.orderPlacedAt`);
      if (q.status?.length) base.whereIn(`${table}.state`, q.status);
      const page = await keysetPage(base, {
        timeColumn: `${table}.updatedAt`,
        idColumn: `${table}.id`,
        since: q.updatedSince === undefined ? undefined : storedDatetime(q.updatedSince, v.kind, v.timezone),
        cursor: q.cursor,
        limit,
      });
      const ctx = await v.readCtx();
      const items: ErpOrder[] = [];
      for (const id of page.ids) {
        const order = await load(ctx, id);
        if (order) items.push(map(order));
      }
      return { items, nextCursor: page.nextCursor };
    }),

    setStatus: (id, status, note) => guarded(() =>
      v.write(async (ctx) => {
        const order = await mustLoad(ctx, id);
        if (order.state === status) return;
        if (!knownState(status)) throw new ErpError("invalid", `"${status}" is not an order state of this Vendure (see statuses())`);
        if (status === "Cancelled") await cancel(ctx, id, note ?? "Cancelled in the warehouse");
        else if (status === "Shipped" || status === "Delivered") await ship(ctx, id, {}, status);
        else {
          const r = await v.orders.transitionToState(ctx, order.id, status as OrderState);
          if (isErrorResult(r)) throw new ErpError("conflict", `order ${order.code} cannot move from ${order.state} to ${status}: ${r.message}`);
        }
        if (note) await addNote(ctx, id, note);
      }),
    ),

    markShipped: (id, s) => guarded(() =>
      v.write(async (ctx) => {
        await mustLoad(ctx, id);
        await ship(ctx, id, s, "Shipped");
      }),
    ),

    cancel: (id, reason) => guarded(() => v.write((ctx) => cancel(ctx, id, reason))),

    addNote: (id, note) => guarded(() =>
      v.write(async (ctx) => {
        await mustLoad(ctx, id);
        await addNote(ctx, id, note);
      }),
    ),
  };
}

/** "PaymentSettled" → "Payment settled". */
export function stateLabel(state: string): string {
  const words = state.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export function vendureStatuses(v: VendureAccess): ErpApi["statuses"] {
  return async () => v.orders.getOrderProcessStates().map((s) => ({ code: s.name, label: stateLabel(s.name) }));
}
