// Public types of the ZenFlow sandbox. Resource shapes mirror the documented API
// (/work/shared/zenflow-api.md §5–§8); fields the docs do not show are marked.

export type FaultKind = "5xx" | "hang" | "reset" | "reset-after" | "429" | "latency" | "redirect" | "huge";

export interface FaultConfig {
  /** Probability 0..1 that a matching request gets a fault. */
  rate: number;
  kinds: FaultKind[];
  /** How long a "hang" holds the request before destroying the socket (default 30000). */
  hangMs?: number;
  /** Extra delay of a "latency" fault (default 1000). */
  latencyMs?: number;
  /** Retry-After of an injected 429 (default 1). */
  retryAfterSeconds?: number;
  /** Only requests whose full path (e.g. /api/v1/orders) matches are faulted. */
  path?: RegExp;
}

export interface FailNextOptions {
  path?: RegExp;
  method?: string;
  retryAfterSeconds?: number;
  /** Sandbox extension: per-fault hang duration (otherwise FaultConfig.hangMs or 30000). */
  hangMs?: number;
  /** Sandbox extension: per-fault latency (otherwise FaultConfig.latencyMs or 1000). */
  latencyMs?: number;
  /** Sandbox extension, "429": the Retry-After header exactly as given (any text), instead of retryAfterSeconds. */
  retryAfter?: string;
  /** Sandbox extension, "429": the X-RateLimit-Reset header exactly as given (any text). */
  rateLimitReset?: string;
  /** Sandbox extension, "redirect": the status (default 302) and Location (default https://elsewhere.invalid/). */
  redirectStatus?: number;
  location?: string;
  /** Sandbox extension, "huge": a 200 whose JSON body has this many bytes, streamed (default 64 MiB). */
  bodyBytes?: number;
  /** Sandbox extension, "huge": send Content-Length (default false: chunked, so only counting while reading stops it). */
  contentLength?: boolean;
}

export type KeyStatus = "active" | "expired" | "revoked";

export interface SandboxKey {
  key: string;
  scopes: string[];
  status?: KeyStatus;
}

export interface RateLimits {
  perMinute: number;
  perHour: number;
  perDay: number;
}

export type EventSpelling = "slash" | "dot";

export interface WebhookOptions {
  signatureHeader?: string;
  timeoutMs?: number;
  maxAttempts?: number;
  retryBaseMs?: number;
  eventSpelling?: EventSpelling;
}

export interface SandboxOptions {
  port?: number;
  host?: string;
  keys?: SandboxKey[];
  limits?: RateLimits;
  now?: () => number;
  locations?: string[];
  strictBarcodes?: boolean;
  maxBatch?: number;
  webhook?: WebhookOptions;
  retryAfterGraceMs?: number;
  seed?: number;
}

export type OrderStateName = "Pending" | "In Progress" | "Packed" | "Completed" | "Cancelled";
export type AdvanceState = "In Progress" | "Packed" | "Completed" | "Cancelled" | number;

export interface AdvanceOptions {
  trackingNumber?: string;
  carrier?: string;
  reason?: string;
}

export interface SandboxOrderLine {
  id: number;
  product_id: number | null;
  barcode: string;
  product_name: string | null;
  quantity: number;
  picked_quantity: number;
  price: number | null;
}

export interface SandboxOrder {
  id: number;
  order_tenant_id: string;
  state_id: number;
  state_name: OrderStateName;
  state_picking_id: number | null;
  assembly_date: string;
  customer_name: string | null;
  shipping_address: string | null;
  order_detail: SandboxOrderLine[];
  tracking_number: string | null;
  /** Not exposed by the API (no documented field); sent in order/completed. */
  carrier: string | null;
  cancellation_reason: string | null;
  /** Not exposed by the API; sent in order/cancelled ("api" or "warehouse"). */
  cancelled_by: string | null;
  /** When the order entered In Progress (used for duration_minutes); internal. */
  picking_started_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface SandboxProduct {
  id: number;
  barcode: string;
  /** The SKU (sent as `sku`, returned as `external_id`). */
  external_id: string | null;
  name: string;
  description: string | null;
  category: string | null;
  price: number | null;
  weight: number | null;
  width: number | null;
  height: number | null;
  depth: number | null;
  sales_unit: number;
  weighable: boolean;
  photo_url: string | null;
  is_active: boolean;
  created_at: string;
  updated_at: string;
}

export interface SandboxStockRow {
  product_id: number;
  product_name: string;
  barcode: string;
  sku: string | null;
  location_id: string;
  location_code: string;
  quantity: number;
  min_quantity: number;
  max_quantity: number | null;
  updated_at: string;
}

export type MovementType = "IN" | "OUT" | "TRANSFER" | "ADJUSTMENT";

export interface SandboxMovement {
  id: string;
  product_id: number;
  product_name: string;
  location_id: string;
  movement_type: MovementType;
  quantity: number;
  previous_quantity: number;
  new_quantity: number;
  reason: string | null;
  created_at: string;
}

export interface SandboxWebhook {
  id: string;
  name: string;
  url: string;
  events: string[];
  secret: string;
  active: boolean;
  created_at: string;
}

export interface RequestLogEntry {
  seq: number;
  /** Arrival time, epoch ms from the sandbox clock. */
  at: number;
  method: string;
  /** Full path without the query, e.g. /api/v1/orders/12345. */
  path: string;
  query: Record<string, unknown>;
  /** Last 4 characters of the presented key (never the whole key); null when absent. */
  key: string | null;
  /** null when the socket was destroyed instead of answered. */
  status: number | null;
  fault?: FaultKind;
  durationMs: number;
  /** Parsed JSON body of write calls. */
  body?: unknown;
}

export interface DeliveryLogEntry {
  eventId: string;
  event: string;
  webhookId: string;
  url: string;
  attempt: number;
  status: number | null;
  error?: string;
  /** Attempt start, epoch ms from the sandbox clock. */
  at: number;
  durationMs: number;
}

export interface RetryAfterViolation {
  at: number;
  path: string;
  blockedUntil: number;
}

export interface KeyBudget {
  /** Authenticated requests received from the key (including those answered 429). */
  requests: number;
  maxPerMinuteWindow: number;
  maxPerHourWindow: number;
  maxPerDayWindow: number;
  maxInAnySliding60s: number;
  limit429s: number;
  injected429s: number;
  retryAfterViolations: RetryAfterViolation[];
}

/** Keyed by the key label (its last 4 characters). */
export type BudgetReport = Record<string, KeyBudget>;

export interface StockRef {
  sku?: string;
  barcode?: string;
  productId?: number;
}

export interface Sandbox {
  url: string;
  origin: string;
  port: number;
  close(): Promise<void>;
  orders(): SandboxOrder[];
  order(ref: number | string): SandboxOrder | undefined;
  products(): SandboxProduct[];
  stock(): SandboxStockRow[];
  /** Sandbox extension: stock movement history. */
  movements(): SandboxMovement[];
  webhooks(): SandboxWebhook[];
  requests(): RequestLogEntry[];
  deliveries(): DeliveryLogEntry[];
  addKey(k: SandboxKey): void;
  setKeyStatus(key: string, status: KeyStatus): void;
  setKeyScopes(key: string, scopes: string[]): void;
  setLimits(l: RateLimits): void;
  setFaults(f: FaultConfig | null): void;
  failNext(n: number, kind: FaultKind, opts?: FailNextOptions): void;
  setLatency(ms: number): void;
  advanceOrder(ref: number | string, state: AdvanceState, opts?: AdvanceOptions): SandboxOrder;
  setStock(ref: StockRef, locationId: string, quantity: number, reason?: string): void;
  emit(event: string, data: Record<string, unknown>, opts?: { id?: string; createdAt?: string }): Promise<void>;
  deliverRaw(url: string, body: string | Buffer, headers: Record<string, string>): Promise<{ status: number; body: string }>;
  redeliver(eventId: string): Promise<void>;
  sign(secret: string, rawBody: string | Buffer): string;
  idle(): Promise<void>;
  budgetReport(): BudgetReport;
  reset(): void;
}
