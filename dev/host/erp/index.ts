// The small ERP: its own operations (`Erp`, used by tests, the demo and the /erp JSON API)
// and the ErpApi handed to a plugin as ctx.erp. Every write runs in a transaction and its
// events are emitted after COMMIT, tagged with the plugin id when the plugin made the change.
import { randomUUID } from "node:crypto";
import type { Knex } from "knex";
import type { ErpApi, ErpOrder, ErpProduct, EventMeta, PluginLogger } from "../../../plugin/core/host-api";
import { databaseKind } from "../database";
import { ORDER_STATUSES } from "../schema";
import { erpError, isErpError } from "./errors";
import * as orders from "./orders";
import * as products from "./products";
import * as stock from "./stock";
import { nowIso } from "./input";
import type { Shipment } from "./rows";
import { read, writeTx, type PendingEvent } from "./transaction";
import { ErpFaults, withFaults } from "./faults";

export type { NewOrderInput, OrderPatch, OrderNote, OrderHistoryEntry, OrderListQuery } from "./orders";
export type { NewProductInput, ProductPatch } from "./products";
export type { StockChange } from "./stock";
export type { Shipment } from "./rows";
export { erpError, isErpError, type ErpError } from "./errors";

export type EmitFn = (name: string, payload: unknown, meta: EventMeta) => Promise<void>;

export interface Erp {
  /** Faults a test may switch on (lost events, hung ctx.erp calls) and the plugin's calls in flight. */
  faults: ErpFaults;
  createOrder(input: orders.NewOrderInput): Promise<ErpOrder>;
  updateOrder(id: string, patch: orders.OrderPatch): Promise<ErpOrder>;
  cancelOrder(id: string, reason?: string): Promise<ErpOrder>;
  createProduct(input: products.NewProductInput): Promise<ErpProduct>;
  updateProduct(id: string, patch: products.ProductPatch): Promise<ErpProduct>;
  deleteProduct(id: string): Promise<void>;
  setStock(s: { sku: string; locationId: string; quantity: number; reason?: string }): Promise<stock.StockChange>;
  getOrder(id: string): Promise<ErpOrder | null>;
  /** Shipping data recorded by markShipped (not part of the contract's ErpOrder). */
  shipment(orderId: string): Promise<Shipment | null>;
  notes(orderId: string): Promise<orders.OrderNote[]>;
  history(orderId: string): Promise<orders.OrderHistoryEntry[]>;
  listOrders(): Promise<ErpOrder[]>;
  getProduct(id: string): Promise<ErpProduct | null>;
  getStock(sku: string, locationId: string): Promise<number | null>;
  listStock(q?: { locationId?: string }): Promise<{ sku: string; locationId: string; quantity: number }[]>;
  /** Fires an arbitrary event in this host (tests use it to deliver one eventId twice). */
  emit(name: string, payload: unknown, meta?: Partial<EventMeta>): Promise<EventMeta>;
}

export interface ErpRuntime {
  erp: Erp;
  /** The ctx.erp of a plugin: writes are tagged with its id. */
  apiFor(pluginId: string, permissions: readonly string[]): ErpApi;
}

export interface ErpOptions {
  /**
   * Makes every ctx.erp read hold a database connection this long first (MySQL/MariaDB only,
   * with SELECT SLEEP), as the API of a heavier ERP would: benchmarks use it to see whether a
   * plugin's reads crowd the ERP's own work out of its connection pool. Default 0.
   */
  readCostMs?: number;
}

export function createErp(db: Knex, emit: EmitFn, log: PluginLogger, opts: ErpOptions = {}): ErpRuntime {
  const faults = new ErpFaults();
  const meta = (origin: string | undefined): EventMeta => ({
    eventId: randomUUID(),
    occurredAt: nowIso(),
    ...(origin === undefined ? {} : { origin }),
  });

  async function write<T>(origin: string | undefined, work: (trx: Knex.Transaction, events: PendingEvent[]) => Promise<T>): Promise<T> {
    const { value, events } = await writeTx(db, work);
    // After COMMIT, in order; the write's caller waits for the handlers (contract section 5).
    if (faults.loseEvents) return value;
    for (const e of events) await emit(e.name, e.payload, meta(origin));
    return value;
  }

  async function createOrder(input: orders.NewOrderInput, origin?: string): Promise<ErpOrder> {
    // A generated number can collide with one taken by another process at the same moment: take the next one.
    for (let attempt = 1; ; attempt++) {
      try {
        return await write(origin, (trx, ev) => orders.createOrder(trx, ev, input, origin));
      } catch (err) {
        const generated = (input as { number?: unknown } | null)?.number === undefined;
        if (!(generated && attempt < 5 && isErpError(err) && err.code === "conflict")) throw err;
      }
    }
  }

  const erp: Erp = {
    faults,
    createOrder: (input) => createOrder(input),
    updateOrder: (id, patch) => write(undefined, (trx, ev) => orders.updateOrder(trx, ev, id, patch)),
    cancelOrder: (id, reason) => write(undefined, (trx, ev) => orders.cancel(trx, ev, id, reason)),
    createProduct: (input) => write(undefined, (trx, ev) => products.createProduct(trx, ev, input)),
    updateProduct: (id, patch) => write(undefined, (trx, ev) => products.updateProduct(trx, ev, id, patch)),
    deleteProduct: (id) => write(undefined, (trx, ev) => products.deleteProduct(trx, ev, id)),
    setStock: (s) => write(undefined, (trx, ev) => stock.setStock(trx, ev, s)),
    getOrder: (id) => read(() => orders.getOrder(db, id)),
    shipment: (id) => read(async () => (await orders.getOrderWithShipment(db, id))?.shipment ?? null),
    notes: (id) => read(() => orders.orderNotes(db, id)),
    history: (id) => read(() => orders.orderHistory(db, id)),
    listOrders: () =>
      read(async () => {
        const all: ErpOrder[] = [];
        let cursor: string | undefined;
        do {
          const page = await orders.listOrders(db, { limit: 1000, ...(cursor ? { cursor } : {}) });
          all.push(...page.items);
          cursor = page.nextCursor ?? undefined;
        } while (cursor);
        return all;
      }),
    getProduct: (id) => read(() => products.getProduct(db, id)),
    getStock: (sku, loc) => read(() => stock.getStock(db, sku, loc)),
    listStock: (q = {}) =>
      read(async () => {
        const all: { sku: string; locationId: string; quantity: number }[] = [];
        let cursor: string | undefined;
        do {
          const page = await stock.listStock(db, { limit: 1000, ...q, ...(cursor ? { cursor } : {}) });
          all.push(...page.items);
          cursor = page.nextCursor ?? undefined;
        } while (cursor);
        return all;
      }),
    async emit(name, payload, m = {}) {
      const full: EventMeta = { ...meta(undefined), ...m };
      await emit(name, payload, full);
      return full;
    },
  };

  const cost = opts.readCostMs && databaseKind(db) === "mysql" ? opts.readCostMs / 1000 : 0;
  const pluginRead = <T>(run: () => Promise<T>): Promise<T> =>
    cost ? read(async () => (await db.raw("SELECT SLEEP(?)", [cost]), run())) : read(run);

  function apiFor(pluginId: string, permissions: readonly string[]): ErpApi {
    // The contract lists permissions as "what the plugin needs"; this host does not refuse
    // undeclared writes, but says so once so that a manifest missing one is noticed.
    const warned = new Set<string>();
    const needs = (permission: string) => {
      if (permissions.includes(permission) || warned.has(permission)) return;
      warned.add(permission);
      log.warn(
        { plugin: pluginId, permission },
        `plugin ${pluginId} wrote through ctx.erp without declaring the "${permission}" permission`,
      );
    };
    return withFaults(api(), faults);

    function api(): ErpApi {
      return {
        orders: {
          get: (id) => pluginRead(() => orders.getOrder(db, id)),
          findByNumber: (n) => pluginRead(() => orders.findByNumber(db, n)),
          list: (q) => pluginRead(() => orders.listOrders(db, q)),
          async setStatus(id, status, note) {
            needs("erp.orders.write");
            await write(pluginId, (trx, ev) => orders.setStatus(trx, ev, id, status, note, pluginId));
          },
          async markShipped(id, s) {
            needs("erp.orders.write");
            await write(pluginId, (trx, ev) => orders.markShipped(trx, ev, id, s, pluginId));
          },
          async cancel(id, reason) {
            needs("erp.orders.write");
            await write(pluginId, (trx, ev) => orders.cancel(trx, ev, id, reason, pluginId));
          },
          async addNote(id, note) {
            needs("erp.orders.write");
            await write(pluginId, (trx) => orders.addNote(trx, id, note, pluginId));
          },
        },
        products: {
          get: (id) => pluginRead(() => products.getProduct(db, id)),
          findBySku: (sku) => pluginRead(() => products.findBySku(db, sku)),
          list: (q) => pluginRead(() => products.listProducts(db, q)),
        },
        stock: {
          list: (q) => pluginRead(() => stock.listStock(db, q)),
          async set(s) {
            needs("erp.stock.write");
            if (typeof (s as { reason?: unknown } | null)?.reason !== "string") {
              throw erpError("invalid", "reason must be a string");
            }
            await write(pluginId, (trx, ev) => stock.setStock(trx, ev, s, pluginId));
          },
        },
        statuses: () =>
          pluginRead(async () => {
            const rows = (await db("erp_statuses").orderBy([{ column: "position" }, { column: "code" }])) as {
              code: string;
              label: string;
            }[];
            return rows.length ? rows.map((r) => ({ code: r.code, label: r.label })) : ORDER_STATUSES.map((s) => ({ ...s }));
          }),
      };
    }
  }

  return { erp, apiFor };
}
