// Shared helpers for the sandbox tests: a tiny HTTP client and a webhook receiver.
import "../support/leak-check";
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Sandbox } from "../../dev/sandbox/index";

export const KEY = "zenflow_test_sandbox";

export interface ApiAnswer {
  status: number;
  headers: Headers;
  body: any;
}

/** Real HTTP call against the sandbox API. `key: null` sends no X-API-Key. */
export async function call(
  sb: Sandbox,
  method: string,
  path: string,
  opts: { body?: unknown; rawBody?: string; key?: string | null; signal?: AbortSignal } = {},
): Promise<ApiAnswer> {
  const headers: Record<string, string> = {};
  const key = opts.key === undefined ? KEY : opts.key;
  if (key !== null) headers["X-API-Key"] = key;
  let body: string | undefined;
  if (opts.rawBody !== undefined) body = opts.rawBody;
  else if (opts.body !== undefined) body = JSON.stringify(opts.body);
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(`${sb.url}${path}`, { method, headers, body, signal: opts.signal });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

export function order(tenantId: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    order_tenant_id: tenantId,
    assembly_date: "2024-01-15",
    customer_name: "John Doe",
    shipping_address: "123 Main St, City",
    order_detail: [
      { barcode: "7891234567890", quantity: 2, price: 29.99 },
      { barcode: "7891234567891", quantity: 1, price: 49.99 },
    ],
    ...extra,
  };
}

export interface Received {
  headers: http.IncomingHttpHeaders;
  raw: Buffer;
  json: any;
}

export interface Receiver {
  url: string;
  received: Received[];
  /** Status to answer the n-th (0-based) request with; default 200; 0 never answers. */
  respond: (n: number) => number;
  close(): Promise<void>;
}

/** A local webhook receiver that records the exact bytes it gets. */
export async function startReceiver(respond: (n: number) => number = () => 200): Promise<Receiver> {
  const received: Received[] = [];
  const r: Receiver = { url: "", received, respond, close: async () => {} };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      const n = received.length;
      let json: unknown;
      try {
        json = JSON.parse(raw.toString("utf8"));
      } catch {
        json = undefined;
      }
      received.push({ headers: req.headers, raw, json });
      const status = r.respond(n);
      if (status === 0) return; // 0: never answer (a hanging receiver)
      res.statusCode = status;
      res.end("OK");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/zenflow`;
  r.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return r;
}

export async function waitFor(cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error("waitFor timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
}
