// One function per ZenFlow endpoint the plugin uses. Each call names its priority so
// the limiter can put orders ahead of stock, products and imports.
import type { z } from "zod";
import { Priority, type PriorityValue } from "../jobs/priorities";
import type { QueryValue, ZenflowRequest, ZenflowResponse } from "./http";
import type { RequestSubject } from "../core/request-log";
import {
  bulkProductsResultSchema,
  bulkStockResultSchema,
  createOrdersResultSchema,
  orderCancelResultSchema,
  orderListSchema,
  orderStatusSchema,
  orderUpdateResultSchema,
  productDeleteResultSchema,
  productListSchema,
  productSchema,
  stockListSchema,
  webhookListSchema,
  webhookSchema,
} from "./schemas";

/** Sends a request through the shared budget at the given priority. */
export type Transport = <T>(req: ZenflowRequest<T>, priority: PriorityValue) => Promise<ZenflowResponse<T>>;

export interface ZenflowOrderPayload {
  order_tenant_id: string;
  assembly_date: string;
  customer_name?: string;
  shipping_address?: string;
  order_detail: { barcode: string; quantity: number; price?: number }[];
}

export interface ZenflowOrderPatch {
  assembly_date?: string;
  customer_name?: string;
  shipping_address?: string;
}

export interface ZenflowProductPayload {
  barcode: string;
  name: string;
  sku?: string;
  category?: string;
  price?: number;
  weight?: number;
}

export interface ZenflowStockUpdate {
  sku?: string;
  product_id?: number;
  location_id: string;
  quantity: number;
}

const enc = encodeURIComponent;

function req<T>(
  endpoint: string,
  method: ZenflowRequest<T>["method"],
  path: string,
  schema: z.ZodType<T>,
  extra: { body?: unknown; query?: Record<string, QueryValue>; about?: readonly RequestSubject[] } = {},
): ZenflowRequest<T> {
  return { endpoint, method, path, schema, ...extra };
}

export function createZenflowClient(send: Transport) {
  return {
    orders: {
      // `about`: the ERP orders a request carries, so the order timeline can show it.
      create: (orders: ZenflowOrderPayload[], priority: PriorityValue = Priority.order, about?: readonly RequestSubject[]) =>
        send(req("POST /orders", "POST", "/orders", createOrdersResultSchema, { body: { orders }, about }), priority),
      update: (id: string, patch: ZenflowOrderPatch, about?: readonly RequestSubject[]) =>
        send(req("PUT /orders/:id", "PUT", `/orders/${enc(id)}`, orderUpdateResultSchema, { body: patch, about }), Priority.order),
      /** `ref` is ZenFlow's id or our order_tenant_id; ZenFlow accepts both here. */
      cancel: (ref: string, body: { order_tenant_id?: string; reason?: string }, about?: readonly RequestSubject[]) =>
        send(
          req("POST /orders/:id/cancel", "POST", `/orders/${enc(ref)}/cancel`, orderCancelResultSchema, { body, about }),
          Priority.cancel,
        ),
      status: (id: string, priority: PriorityValue = Priority.backstop, about?: readonly RequestSubject[]) =>
        send(req("GET /orders/:id/status", "GET", `/orders/${enc(id)}/status`, orderStatusSchema, { about }), priority),
      list: (query: { page?: number; limit?: number }, priority: PriorityValue) =>
        send(req("GET /orders", "GET", "/orders", orderListSchema, { query }), priority),
    },
    products: {
      bulkUpsert: (products: ZenflowProductPayload[], priority: PriorityValue = Priority.product) =>
        send(req("POST /products/bulk", "POST", "/products/bulk", bulkProductsResultSchema, { body: { products } }), priority),
      bySku: (sku: string, priority: PriorityValue = Priority.product) =>
        send(req("GET /products/sku/:sku", "GET", `/products/sku/${enc(sku)}`, productSchema), priority),
      list: (query: { page: number; limit: number; updated_since?: string }, priority: PriorityValue) =>
        send(req("GET /products", "GET", "/products", productListSchema, { query }), priority),
      remove: (id: string) =>
        send(req("DELETE /products/:id", "DELETE", `/products/${enc(id)}`, productDeleteResultSchema), Priority.product),
    },
    stock: {
      bulkSet: (updates: ZenflowStockUpdate[], priority: PriorityValue = Priority.stock) =>
        send(req("POST /stock/bulk", "POST", "/stock/bulk", bulkStockResultSchema, { body: { updates } }), priority),
      list: (query: { page: number; limit: number; location_id?: string }, priority: PriorityValue) =>
        send(req("GET /stock", "GET", "/stock", stockListSchema, { query }), priority),
    },
    webhooks: {
      list: () => send(req("GET /webhooks", "GET", "/webhooks", webhookListSchema), Priority.webhookSetup),
      create: (body: { name: string; url: string; events: string[] }) =>
        send(req("POST /webhooks", "POST", "/webhooks", webhookSchema, { body }), Priority.webhookSetup),
    },
  };
}

export type ZenflowClient = ReturnType<typeof createZenflowClient>;
