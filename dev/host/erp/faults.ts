// Faults the reference ERP can be told to have, for tests of a plugin's recovery (like the
// sandbox's faults for ZenFlow). None is on unless a test switches it on.
//   loseEvents — writes commit but their events are never delivered: what happens when an
//                ERP process dies between its commit and the handlers (contract section 5).
//   hang       — a plugin's ctx.erp call (by method, optionally by first argument) never
//                returns until released: an ERP that stops answering.
// It also counts the plugin's ctx.erp calls in flight, so a test can check that a plugin
// keeps to a bounded share of the ERP.
import type { ErpApi } from "../../../plugin/core/host-api";

export class ErpFaults {
  loseEvents = false;
  private hangs: { method: string; arg?: string }[] = [];
  private waiting: Array<() => void> = [];
  inFlight = 0;
  maxInFlight = 0;

  hang(method: string, arg?: string): void {
    this.hangs.push({ method, ...(arg === undefined ? {} : { arg }) });
  }

  /** Stops hanging and lets every hung call proceed. */
  release(): void {
    this.hangs = [];
    for (const go of this.waiting.splice(0)) go();
  }

  reset(): void {
    this.loseEvents = false;
    this.release();
    this.inFlight = 0;
    this.maxInFlight = 0;
  }

  async around<T>(method: string, args: unknown[], fn: () => Promise<T>): Promise<T> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.hangs.some((h) => h.method === method && (h.arg === undefined || h.arg === args[0])))
        await new Promise<void>((go) => this.waiting.push(go));
      return await fn();
    } finally {
      this.inFlight--;
    }
  }
}

/** The same ctx.erp, with every call going through `faults`. */
export function withFaults(api: ErpApi, faults: ErpFaults): ErpApi {
  const wrap = <G extends object>(group: G, prefix: string): G =>
    Object.fromEntries(
      Object.entries(group).map(([name, fn]) => [
        name,
        (...args: unknown[]) => faults.around(`${prefix}${name}`, args, () => (fn as (...a: unknown[]) => Promise<unknown>)(...args)),
      ]),
    ) as G;
  return {
    orders: wrap(api.orders, "orders."),
    products: wrap(api.products, "products."),
    stock: wrap(api.stock, "stock."),
    statuses: () => faults.around("statuses", [], () => api.statuses()),
  };
}
