// The one adapter between ctx.erp and the synchronizers: they depend on this narrow
// interface, never on the host object, so a host quirk is handled in one place.
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

async function call<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw ErpError.from(err);
  }
}

export function createErpPort(erp: ErpApi): ErpPort {
  return {
    getOrder: (id) => call(() => erp.orders.get(id)),
    findOrderByNumber: (n) => call(() => erp.orders.findByNumber(n)),
    listOrders: (q) => call(() => erp.orders.list(q)),
    setOrderStatus: (id, s, note) => call(() => erp.orders.setStatus(id, s, note)),
    markShipped: (id, s) => call(() => erp.orders.markShipped(id, s)),
    cancelOrder: (id, reason) => call(() => erp.orders.cancel(id, reason)),
    addNote: (id, note) => call(() => erp.orders.addNote(id, note)),
    getProduct: (id) => call(() => erp.products.get(id)),
    findProductBySku: (sku) => call(() => erp.products.findBySku(sku)),
    listProducts: (q) => call(() => erp.products.list(q)),
    listStock: (q) => call(() => erp.stock.list(q)),
    setStock: (s) => call(() => erp.stock.set(s)),
    statuses: () => call(() => erp.statuses()),
  };
}
