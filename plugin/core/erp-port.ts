// The one adapter between ctx.erp and the synchronizers: they depend on this narrow
// interface, never on the host object, so a host quirk is handled in one place. Every call
// holds one of the plugin's database permits (the host serves ctx.erp from its own pool,
// see db-share.ts) and has a deadline: a call that never returns fails as `unavailable`
// after `callTimeoutMs`, so its job is retried instead of running forever.
import type { Permits } from "./db-share";
import { SyncError } from "./errors";
import type { ErpApi, ErpErrorCode, ErpOrder, ErpProduct, ErpStockLevel, Page } from "./host-api";

export interface ErpPort {
  getOrder(id: string): Promise<ErpOrder | null>;
  findOrderByNumber(number: string): Promise<ErpOrder | null>;
  listOrders(q: { updatedSince?: string; status?: string[]; cursor?: string; limit?: number }): Promise<Page<ErpOrder>>;
  setOrderStatus(id: string, status: string, note?: string): Promise<void>;
  markShipped(id: string, s: { shippedAt: string; trackingNumber?: string; carrier?: string }): Promise<void>;
  cancelOrder(id: string, reason: string): Promise<void>;
  addNote(id: string, note: string): Promise<void>;
  getProduct(id: string): Promise<ErpProduct | null>;
  findProductBySku(sku: string): Promise<ErpProduct | null>;
  listProducts(q: { updatedSince?: string; cursor?: string; limit?: number }): Promise<Page<ErpProduct>>;
  listStock(q: { cursor?: string; limit?: number; locationId?: string }): Promise<Page<ErpStockLevel>>;
  setStock(s: { sku: string; locationId: string; quantity: number; reason: string }): Promise<void>;
  statuses(): Promise<{ code: string; label: string }[]>;
}

const ERP_CODES: readonly ErpErrorCode[] = ["not_found", "invalid", "conflict", "unavailable"];

/**
 * A failure of a ctx.erp call. The contract's codes say what retrying can do: not_found,
 * invalid and conflict will not fix themselves; unavailable may. Anything a host throws
 * without one of those codes (a host bug, a dropped connection) counts as `unavailable`.
 */
export class ErpError extends SyncError {
  readonly retryable: boolean;
  constructor(
    readonly code: ErpErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.retryable = code === "unavailable";
  }

  static from(err: unknown): ErpError {
    if (err instanceof ErpError) return err;
    const code = (err as { code?: unknown } | null)?.code;
    const known = typeof code === "string" && (ERP_CODES as readonly string[]).includes(code) ? (code as ErpErrorCode) : "unavailable";
    return new ErpError(known, err instanceof Error ? err.message : String(err), { cause: err });
  }
}

export interface ErpPortOptions {
  /** Shared with the plugin's own statements; none: calls are not gated (tests of the port). */
  permits?: Permits;
  /** How long one call may take once it has its permit. */
  callTimeoutMs: number;
  /** How long a call may wait for a permit. */
  acquireTimeoutMs: number;
}

function caller(opts: ErpPortOptions) {
  return async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    if (opts.permits) {
      try {
        await opts.permits.acquire(opts.acquireTimeoutMs);
      } catch (err) {
        throw new ErpError("unavailable", `ctx.erp ${what} not called: ${(err as Error).message}`, { cause: err });
      }
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new ErpError("unavailable", `the ERP did not answer ctx.erp ${what} within ${opts.callTimeoutMs} ms`)),
          opts.callTimeoutMs,
        );
        timer.unref();
      });
      // A call that never settles keeps running in the host; we stop waiting for it (and give
      // its permit back: the job is retried, and a hung host call must not stall the plugin).
      return await Promise.race([fn(), deadline]);
    } catch (err) {
      throw ErpError.from(err);
    } finally {
      clearTimeout(timer);
      opts.permits?.release();
    }
  };
}

export function createErpPort(erp: ErpApi, opts: ErpPortOptions = { callTimeoutMs: 30_000, acquireTimeoutMs: 30_000 }): ErpPort {
  const call = caller(opts);
  return {
    getOrder: (id) => call("orders.get", () => erp.orders.get(id)),
    findOrderByNumber: (n) => call("orders.findByNumber", () => erp.orders.findByNumber(n)),
    listOrders: (q) => call("orders.list", () => erp.orders.list(q)),
    setOrderStatus: (id, s, note) => call("orders.setStatus", () => erp.orders.setStatus(id, s, note)),
    markShipped: (id, s) => call("orders.markShipped", () => erp.orders.markShipped(id, s)),
    cancelOrder: (id, reason) => call("orders.cancel", () => erp.orders.cancel(id, reason)),
    addNote: (id, note) => call("orders.addNote", () => erp.orders.addNote(id, note)),
    getProduct: (id) => call("products.get", () => erp.products.get(id)),
    findProductBySku: (sku) => call("products.findBySku", () => erp.products.findBySku(sku)),
    listProducts: (q) => call("products.list", () => erp.products.list(q)),
    listStock: (q) => call("stock.list", () => erp.stock.list(q)),
    setStock: (s) => call("stock.set", () => erp.stock.set(s)),
    statuses: () => call("statuses", () => erp.statuses()),
  };
}
