// The ZenFlow sandbox seen from outside: its HTTP control API (state, request log, warehouse
// actions), as an operator or another process would see it.
import type { RequestLogEntry, SandboxOrder, SandboxProduct, SandboxStockRow } from "../../../../dev/sandbox/types";

export interface SandboxState {
  orders: SandboxOrder[];
  products: SandboxProduct[];
  stock: SandboxStockRow[];
  webhooks: { id: string; url: string; events: string[] }[];
}

export class SandboxControl {
  constructor(readonly origin: string) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.origin}/__sandbox${path}`, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await res.json()) as { success: boolean; data: T; error?: unknown };
    if (!res.ok) throw new Error(`sandbox ${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json.data;
  }

  state(): Promise<SandboxState> {
    return this.call("GET", "/state");
  }

  async order(ref: string): Promise<SandboxOrder | undefined> {
    return (await this.state()).orders.find((o) => o.order_tenant_id === ref);
  }

  async requests(): Promise<RequestLogEntry[]> {
    return (await this.call<{ requests: RequestLogEntry[] }>("GET", "/requests?since=0")).requests;
  }

  advance(ref: string, state: string, opts: { trackingNumber?: string; carrier?: string; reason?: string } = {}): Promise<SandboxOrder> {
    return this.call("POST", `/orders/${encodeURIComponent(ref)}/advance`, { state, ...opts });
  }

  setStock(sku: string, locationId: string, quantity: number): Promise<unknown> {
    return this.call("POST", "/stock", { sku, location_id: locationId, quantity });
  }
}
