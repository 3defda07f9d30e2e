// The load of a busy ERP, streamed through the /erp HTTP API of whichever ERP processes are
// alive: orders created (some as drafts, confirmed later or never), edited (address, ship-by
// date), cancelled soon or late; products and stock when the plugin syncs them; and the
// warehouse moving orders along in ZenFlow (which sends webhooks) when the plugin receives them.
//
// A change whose answer was lost (the process was killed, the database dropped) is sent again
// to another process. Every change is absolute (a new address, not "+1"), so repeating one
// that did commit changes nothing — exactly as a user pressing Save twice.
import type { Sandbox } from "../../dev/sandbox";
import type { NewOrderInput } from "../../dev/host";
import { type ErpClient, ErpHttpError } from "./erp-client";
import type { Features } from "./features";

export type Lane = "plain" | "edit" | "cancel-early" | "cancel-late" | "draft-keep" | "draft-promote" | "warehouse";
export type WarehouseStep = "In Progress" | "Packed" | "Completed" | "Cancelled";

export interface OrderModel {
  id: string;
  number: string;
  lane: Lane;
  created: boolean;
  edits: number;
  cancelled: boolean;
  promoted: boolean;
  /** Warehouse steps applied in ZenFlow (the sandbox), in order. */
  steps: WarehouseStep[];
  trackingNumber?: string;
}

export interface ProductModel {
  id: string;
  sku: string;
  barcode: string;
  created: boolean;
  updates: number;
}

export interface DriverStats {
  ops: Record<string, number>;
  /** Calls whose outcome was unknown (no answer, 5xx) and were sent again. */
  resent: number;
  /** Calls that failed for good (a bug in the scenario or the host). */
  failed: { op: string; error: string }[];
  warehouseSteps: number;
}

export interface DriverOptions {
  runId: string;
  rng: () => number;
  /** Clients of the ERP processes alive right now. */
  hosts: () => ErpClient[];
  sandbox: Sandbox;
  features: Features;
  ordersPerSecond: number;
  products: number;
  /** Product and stock changes per second (when the plugin syncs them). */
  catalogOpsPerSecond: number;
  log: (msg: string) => void;
}

const SHIP_DATES = Array.from({ length: 28 }, (_, i) => `2026-12-${String(i + 1).padStart(2, "0")}`);
const CITIES = ["Buenos Aires", "Córdoba", "Rosario", "Mendoza", "La Plata", "Salta"];
export const LOCATIONS = ["main", "backroom"] as const;

export class Driver {
  readonly orders = new Map<string, OrderModel>();
  readonly products: ProductModel[] = [];
  readonly stats: DriverStats = { ops: {}, resent: 0, failed: [], warehouseSteps: 0 };
  private timers = new Set<NodeJS.Timeout>();
  private inflight = new Set<Promise<unknown>>();
  private streaming = false;
  private seq = 0;
  private rr = 0;

  constructor(private readonly o: DriverOptions) {}

  private rand(min: number, max: number): number {
    return min + this.o.rng() * (max - min);
  }

  private pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.o.rng() * xs.length)]!;
  }

  private count(op: string): void {
    this.stats.ops[op] = (this.stats.ops[op] ?? 0) + 1;
  }

  /** Runs `fn` later unless the stream has stopped by then. */
  private later(ms: number, fn: () => Promise<unknown> | void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.streaming) return;
      this.track(Promise.resolve().then(fn));
    }, ms);
    this.timers.add(t);
  }

  private track(p: Promise<unknown>): void {
    const q = p.catch((err) => this.stats.failed.push({ op: "internal", error: String((err as Error)?.stack ?? err) }));
    this.inflight.add(q);
    void q.finally(() => this.inflight.delete(q));
  }

  /**
   * One ERP call, sent to the next live process. An unknown outcome (no answer, 5xx: the
   * process died or the database is away) is sent again, to another process if there is one.
   */
  private async call(op: string, fn: (c: ErpClient) => Promise<unknown>, opts: { conflictMeansDone?: boolean } = {}): Promise<boolean> {
    this.count(op);
    let last: unknown;
    for (let attempt = 1; attempt <= 60; attempt++) {
      const hosts = this.o.hosts();
      if (!hosts.length) {
        await sleep(250);
        continue;
      }
      const client = hosts[this.rr++ % hosts.length]!;
      try {
        await fn(client);
        return true;
      } catch (err) {
        last = err;
        if (err instanceof ErpHttpError && err.status === 409 && opts.conflictMeansDone && attempt > 1) return true;
        if (!(err instanceof ErpHttpError) || !err.uncertain) break;
        this.stats.resent++;
        await sleep(Math.min(2000, 150 * attempt));
      }
    }
    this.stats.failed.push({ op, error: (last as Error)?.message ?? String(last) });
    return false;
  }

  /** Creates the catalogue (when products sync) before the stream starts. */
  async seedCatalog(): Promise<void> {
    if (!this.o.features.products) return;
    for (let i = 0; i < this.o.products; i++) {
      const p: ProductModel = {
        id: `prd_chaos_${this.o.runId}_${i}`,
        sku: `CH-${this.o.runId}-${String(i).padStart(4, "0")}`,
        barcode: `779${this.o.runId.replace(/\D/g, "").padEnd(4, "0").slice(0, 4)}${String(i).padStart(6, "0")}`,
        created: false,
        updates: 0,
      };
      this.products.push(p);
    }
    await Promise.all(
      this.products.map(async (p, i) => {
        p.created = await this.call(
          "product.create",
          (c) => c.createProduct({ id: p.id, sku: p.sku, barcode: p.barcode, name: `Chaos product ${i}`, price: `${10 + (i % 50)}.00` }),
          { conflictMeansDone: true },
        );
        if (this.o.features.stock) {
          for (const loc of LOCATIONS) await this.setStock(p, loc);
        }
      }),
    );
  }

  start(): void {
    this.streaming = true;
    const tickMs = 1000 / this.o.ordersPerSecond;
    const createTick = () => {
      if (!this.streaming) return;
      this.track(this.createOne());
      this.later(tickMs * this.rand(0.5, 1.5), createTick);
    };
    createTick();
    if (this.o.features.products && this.products.length) {
      const catalogTick = () => {
        if (!this.streaming) return;
        this.track(this.catalogChange());
        this.later((1000 / this.o.catalogOpsPerSecond) * this.rand(0.5, 1.5), catalogTick);
      };
      this.later(500, catalogTick);
    }
  }

  /** Stops new changes and waits for the ones in flight (and their resends) to finish. */
  async stop(): Promise<void> {
    this.streaming = false;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    while (this.inflight.size) await Promise.allSettled([...this.inflight]);
  }

  private chooseLane(): Lane {
    const r = this.o.rng();
    if (r < 0.05) return "draft-keep";
    if (r < 0.1) return "draft-promote";
    if (r < 0.17) return "cancel-early";
    if (r < 0.25) return "cancel-late";
    if (r < 0.55) return "edit";
    if (r < 0.75 && this.o.features.webhooks) return "warehouse";
    return "plain";
  }

  private orderInput(m: OrderModel, i: number): NewOrderInput {
    const items = this.products.length
      ? [0, 1].map((k) => {
          const p = this.products[(i * 7 + k * 13) % this.products.length]!;
          return { sku: p.sku, barcode: p.barcode, quantity: 1 + ((i + k) % 3), unitPrice: "12.50" };
        })
      : [
          { sku: `CH-SKU-${i % 11}`, barcode: `7790000${String(i % 11).padStart(3, "0")}`, quantity: 1 + (i % 3), unitPrice: "12.50" },
          { sku: `CH-SKU-NB-${i % 5}`, quantity: 2, unitPrice: "3.10" },
        ];
    return {
      id: m.id,
      number: m.number,
      status: m.lane.startsWith("draft") ? "draft" : "awaiting_fulfillment",
      shipByDate: i % 9 === 0 ? null : this.pick(SHIP_DATES),
      customer: { name: `Chaos customer ${i}`, email: `c${i}@example.com` },
      shippingAddress: { line1: `${100 + i} Initial St`, city: this.pick(CITIES), postalCode: `C${1000 + (i % 900)}`, country: "AR" },
      items,
      currency: "ARS",
    };
  }

  private async createOne(): Promise<void> {
    const i = ++this.seq;
    const m: OrderModel = {
      id: `ord_chaos_${this.o.runId}_${i}`,
      number: `SO-CH${this.o.runId}-${String(i).padStart(6, "0")}`,
      lane: this.chooseLane(),
      created: false,
      edits: 0,
      cancelled: false,
      promoted: false,
      steps: [],
    };
    this.orders.set(m.id, m);
    const input = this.orderInput(m, i);
    // A resent create finds the order already there (409): it was created the first time.
    m.created = await this.call("order.create", (c) => c.createOrder(input), { conflictMeansDone: true });
    if (!m.created) return;
    switch (m.lane) {
      case "draft-promote":
        this.later(this.rand(1000, 10_000), () => this.promote(m));
        break;
      case "cancel-early":
        this.later(this.rand(0, 300), () => this.cancel(m));
        break;
      case "cancel-late":
        this.later(this.rand(3000, 15_000), () => this.cancel(m));
        break;
      case "edit": {
        const n = 1 + Math.floor(this.o.rng() * 3);
        for (let k = 0; k < n; k++) this.later(this.rand(200, 15_000), () => this.edit(m));
        break;
      }
      case "warehouse":
        this.later(this.rand(2000, 6000), () => this.warehouseStep(m, 0));
        break;
    }
  }

  private async promote(m: OrderModel): Promise<void> {
    m.promoted = await this.call("order.confirm-draft", (c) => c.updateOrder(m.id, { status: "awaiting_fulfillment" }));
  }

  private async cancel(m: OrderModel): Promise<void> {
    m.cancelled = await this.call("order.cancel", (c) => c.cancelOrder(m.id, "customer changed their mind"));
  }

  private async edit(m: OrderModel): Promise<void> {
    const k = ++m.edits;
    const r = this.o.rng();
    const patch =
      r < 0.4
        ? { shipByDate: this.pick(SHIP_DATES) }
        : r < 0.8
          ? { shippingAddress: { line1: `${k * 1000 + this.seq} Edited Ave`, city: this.pick(CITIES), postalCode: "C2000", country: "AR" } }
          : {
              shipByDate: this.pick(SHIP_DATES),
              shippingAddress: { line1: `${k * 1000 + this.seq} Moved Rd`, city: this.pick(CITIES), postalCode: "C3000", country: "AR" },
            };
    await this.call(r < 0.4 ? "order.edit-date" : "order.edit-address", (c) => c.updateOrder(m.id, patch));
  }

  /** The warehouse moves the order along in ZenFlow; ZenFlow sends the webhook. */
  private warehouseStep(m: OrderModel, tries: number): void {
    const sb = this.o.sandbox.order(m.number);
    if (!sb) {
      // Not in ZenFlow yet (backlog, faults): look again a little later.
      if (tries < 40) this.later(1500, () => this.warehouseStep(m, tries + 1));
      return;
    }
    if (sb.state_name === "Completed" || sb.state_name === "Cancelled") return;
    const path: WarehouseStep[] = ["In Progress", "Packed", "Completed"];
    let next: WarehouseStep = path[m.steps.filter((s) => s !== "Cancelled").length] ?? "Completed";
    if (this.o.rng() < 0.08) next = "Cancelled";
    const opts =
      next === "Completed"
        ? { trackingNumber: (m.trackingNumber = `TRK-${m.number}`), carrier: "Andreani" }
        : next === "Cancelled"
          ? { reason: "damaged in the warehouse" }
          : {};
    this.o.sandbox.advanceOrder(m.number, next, opts);
    m.steps.push(next);
    this.stats.warehouseSteps++;
    this.count(`warehouse.${next}`);
    // Some orders stop part-way, as real ones wait for stock or a carrier.
    if (next !== "Completed" && next !== "Cancelled" && this.o.rng() < 0.8)
      this.later(this.rand(1500, 5000), () => this.warehouseStep(m, 0));
  }

  private async catalogChange(): Promise<void> {
    const p = this.pick(this.products);
    if (!p.created) return;
    if (this.o.features.stock && this.o.rng() < 0.6) await this.setStock(p, this.pick(LOCATIONS));
    else {
      const k = ++p.updates;
      await this.call("product.update", (c) => c.updateProduct(p.id, { name: `Chaos product ${p.sku} v${k}`, price: `${20 + k}.00` }));
    }
  }

  private async setStock(p: ProductModel, loc: string): Promise<void> {
    const quantity = Math.floor(this.o.rng() * 500);
    await this.call("stock.set", (c) => c.setStock({ sku: p.sku, locationId: loc, quantity, reason: "cycle count" }));
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
