// Types of the ERP Plugin API, version 1 (../shared/erp-plugin-api.md).
// The host side is fixed; these types transcribe it so that the plugin and the
// reference host in dev/ are checked against the same contract.
import type { Router } from "express";
import type { Knex } from "knex";

export interface ErpOrderItem {
  sku: string;
  barcode?: string;
  name?: string;
  quantity: number;
  unitPrice: string;
}

export interface ErpAddress {
  line1: string;
  line2?: string;
  city: string;
  state?: string;
  postalCode: string;
  country: string;
}

export interface ErpOrder {
  id: string;
  number: string;
  status: string;
  shipByDate: string | null;
  customer: { name: string; email?: string; phone?: string };
  shippingAddress: ErpAddress;
  items: ErpOrderItem[];
  currency: string;
  notes?: string;
  createdAt: string;
  updatedAt: string;
}

export interface ErpProduct {
  id: string;
  sku: string;
  barcode: string | null;
  name: string;
  category?: string | null;
  weightKg?: number | null;
  price?: string | null;
  active: boolean;
  updatedAt: string;
}

export interface ErpStockLevel {
  sku: string;
  locationId: string;
  quantity: number;
}

export interface EventMeta {
  eventId: string;
  occurredAt: string;
  origin?: string;
}

export interface ErpEventMap {
  "order.created": ErpOrder;
  "order.updated": ErpOrder;
  "order.cancelled": { order: ErpOrder; reason?: string };
  "product.created": ErpProduct;
  "product.updated": ErpProduct;
  "product.deleted": { id: string; sku: string };
  "stock.changed": { sku: string; locationId: string; quantity: number; previousQuantity: number; reason?: string };
}

export type ErpEventName = keyof ErpEventMap;

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface ErpApi {
  orders: {
    get(id: string): Promise<ErpOrder | null>;
    findByNumber(number: string): Promise<ErpOrder | null>;
    list(q: { updatedSince?: string; status?: string[]; cursor?: string; limit?: number }): Promise<Page<ErpOrder>>;
    setStatus(id: string, status: string, note?: string): Promise<void>;
    markShipped(id: string, s: { shippedAt: string; trackingNumber?: string; carrier?: string }): Promise<void>;
    cancel(id: string, reason: string): Promise<void>;
    addNote(id: string, note: string): Promise<void>;
  };
  products: {
    get(id: string): Promise<ErpProduct | null>;
    findBySku(sku: string): Promise<ErpProduct | null>;
    list(q: { updatedSince?: string; cursor?: string; limit?: number }): Promise<Page<ErpProduct>>;
  };
  stock: {
    list(q: { cursor?: string; limit?: number; locationId?: string }): Promise<Page<ErpStockLevel>>;
    set(s: { sku: string; locationId: string; quantity: number; reason: string }): Promise<void>;
  };
  statuses(): Promise<{ code: string; label: string }[]>;
}

/** Codes carried by errors thrown from ctx.erp. */
export type ErpErrorCode = "not_found" | "invalid" | "conflict" | "unavailable";

type LogFn = (obj: object | string, msg?: string) => void;
export interface PluginLogger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
}

export interface PluginContext {
  id: string;
  version: string;
  db: Knex;
  events: {
    on<E extends ErpEventName>(name: E, handler: (payload: ErpEventMap[E], meta: EventMeta) => Promise<void> | void): () => void;
  };
  http: { public: Router; admin: Router; publicUrl: string };
  config: {
    get(): Record<string, unknown>;
    onChange(listener: (values: Record<string, unknown>) => void | Promise<void>): () => void;
  };
  erp: ErpApi;
  log: PluginLogger;
  signal: AbortSignal;
}

export type HealthStatus = "ok" | "degraded" | "down" | "unconfigured";
export interface HealthReport {
  status: HealthStatus;
  message?: string;
  details?: Record<string, unknown>;
}

export interface ActionResult {
  ok: boolean;
  message: string;
  details?: unknown;
}

export interface ErpPlugin {
  activate(ctx: PluginContext): Promise<void>;
  deactivate(): Promise<void>;
  uninstall?(ctx: PluginContext): Promise<void>;
  health?(): Promise<HealthReport>;
  actions?: Record<string, (ctx: PluginContext, input?: unknown) => Promise<ActionResult>>;
}

export interface PluginManifest {
  id: string;
  name: string;
  description: string;
  version: string;
  author: string;
  license: string;
  main: string;
  erpApi: string;
  hooks: ErpEventName[];
  migrations: { directory: string; tableName: string };
  config: Record<string, unknown>;
  actions: { id: string; label: string; description?: string }[];
  permissions: string[];
}
