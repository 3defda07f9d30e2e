// The ERP's own JSON API (/erp/*, dev/host/erp-http.ts) of a host running in another OS
// process. Every call is a real HTTP request, so a killed host or a dropped database
// shows up here as the failure a user of the ERP would see.
import type { ErpOrder, ErpProduct } from "../../plugin/core/host-api";
import type { NewOrderInput, OrderHistoryEntry, OrderPatch, Shipment } from "../../dev/host";

export class ErpHttpError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
    readonly code: string | null,
  ) {
    super(message);
  }
  /** The request may or may not have been applied: the host died or the answer was lost. */
  get uncertain(): boolean {
    return this.status === null || this.status >= 500;
  }
}

export interface OrderDetail {
  order: ErpOrder;
  shipment: Shipment | null;
  history: OrderHistoryEntry[];
}

export class ErpClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string,
    private readonly timeoutMs = 15_000,
  ) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}/erp${path}`, {
        method,
        headers: { Authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new ErpHttpError(`${method} ${path}: ${(err as Error).message}`, null, null);
    }
    const text = await res.text().catch(() => "");
    let json: unknown = undefined;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      const code = (json as { code?: string } | undefined)?.code ?? null;
      throw new ErpHttpError(`${method} ${path}: HTTP ${res.status} ${text.slice(0, 200)}`, res.status, code);
    }
    return json as T;
  }

  createOrder(input: NewOrderInput): Promise<ErpOrder> {
    return this.call("POST", "/orders", input);
  }
  updateOrder(id: string, patch: OrderPatch): Promise<ErpOrder> {
    return this.call("PATCH", `/orders/${encodeURIComponent(id)}`, patch);
  }
  cancelOrder(id: string, reason: string): Promise<ErpOrder> {
    return this.call("POST", `/orders/${encodeURIComponent(id)}/cancel`, { reason });
  }
  order(id: string): Promise<OrderDetail> {
    return this.call("GET", `/orders/${encodeURIComponent(id)}`);
  }
  async orders(): Promise<ErpOrder[]> {
    return (await this.call<{ items: ErpOrder[] }>("GET", "/orders")).items;
  }
  createProduct(p: { id: string; sku: string; barcode: string; name: string; price: string }): Promise<ErpProduct> {
    return this.call("POST", "/products", p);
  }
  updateProduct(id: string, patch: { name?: string; price?: string }): Promise<ErpProduct> {
    return this.call("PATCH", `/products/${encodeURIComponent(id)}`, patch);
  }
  product(id: string): Promise<ErpProduct> {
    return this.call("GET", `/products/${encodeURIComponent(id)}`);
  }
  setStock(s: { sku: string; locationId: string; quantity: number; reason: string }): Promise<unknown> {
    return this.call("PUT", "/stock", s);
  }
  async stock(): Promise<{ sku: string; locationId: string; quantity: number }[]> {
    return (await this.call<{ items: { sku: string; locationId: string; quantity: number }[] }>("GET", "/stock")).items;
  }
}
