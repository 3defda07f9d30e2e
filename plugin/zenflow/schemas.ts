// zod schemas for ZenFlow's answers. They are deliberately tolerant where the docs
// disagree with themselves (ids as numbers or strings, lists under several names,
// `details` as object or array) and strict where we depend on a field.
import { z } from "zod";

/** ZenFlow ids are integers on most endpoints and strings on cancel; we keep them as strings. */
export const zenflowId = z.union([z.number().int(), z.string().min(1)]).transform((v) => String(v));

const count = z.number().int().nonnegative();

export const errorEnvelopeSchema = z.object({
  success: z.literal(false),
  error: z.object({
    code: z.string(),
    message: z.string().optional(),
    details: z.unknown().optional(),
  }),
});

export const paginationSchema = z.object({ total: count, page: count, limit: count, total_pages: count }).partial().loose();

export const createdOrderSchema = z
  .object({
    id: zenflowId.optional(),
    order_id: zenflowId.optional(),
    order_tenant_id: z.string().optional(),
    state_id: z.number().int().optional(),
    status: z.string().optional(),
  })
  .loose();

export const createOrdersResultSchema = z.object({
  created_count: count.optional(),
  existing_count: count.optional(),
  orders: z.array(createdOrderSchema).default([]),
  // Not documented; read when present so one bad order in a batch is not hidden.
  errors: z
    .array(z.object({ order_tenant_id: z.string().optional(), error: z.string().optional(), message: z.string().optional() }).loose())
    .optional(),
});
export type CreateOrdersResult = z.output<typeof createOrdersResultSchema>;

export const orderUpdateResultSchema = z
  .object({
    id: zenflowId,
    order_tenant_id: z.string().optional(),
    state_id: z.number().int().optional(),
    updated_at: z.string().optional(),
  })
  .loose();

export const orderCancelResultSchema = z.object({ message: z.string().optional(), order_id: zenflowId.optional() }).loose();

export const orderStatusSchema = z
  .object({
    order_id: zenflowId,
    external_id: z.string().optional(),
    state_id: z.number().int(),
    state_name: z.string().optional(),
    state_picking_id: z.number().int().nullable().optional(),
    updated_at: z.string().optional(),
  })
  .loose();
export type OrderStatus = z.output<typeof orderStatusSchema>;

export const bulkProductsResultSchema = z.object({
  created: count.default(0),
  updated: count.default(0),
  errors: z
    .array(
      z
        .object({
          barcode: z.string().nullable().optional(),
          sku: z.string().optional(),
          error: z.string().optional(),
          message: z.string().optional(),
        })
        .loose(),
    )
    .default([]),
  // Not documented; used when a ZenFlow version returns the ids.
  products: z
    .array(
      z.object({ id: zenflowId, barcode: z.string().optional(), sku: z.string().optional(), external_id: z.string().optional() }).loose(),
    )
    .optional(),
});
export type BulkProductsResult = z.output<typeof bulkProductsResultSchema>;

export const productSchema = z
  .object({
    id: zenflowId,
    barcode: z.string().nullable().optional(),
    external_id: z.string().nullable().optional(),
    sku: z.string().nullable().optional(),
    name: z.string().optional(),
    is_active: z.boolean().optional(),
  })
  .loose();
export type ZenflowProduct = z.output<typeof productSchema>;

export const productListSchema = z
  .object({
    products: z.array(productSchema).optional(),
    items: z.array(productSchema).optional(),
    pagination: paginationSchema.optional(),
  })
  .transform((d) => ({ products: d.products ?? d.items ?? [], pagination: d.pagination ?? {} }));

export const productDeleteResultSchema = z.object({ message: z.string().optional(), product_id: zenflowId.optional() }).loose();

export const bulkStockResultSchema = z.object({
  // `success` is a count here, not the envelope's boolean.
  success: count.default(0),
  errors: z
    .array(
      z
        .object({
          product_id: z.union([z.number(), z.string()]).optional(),
          sku: z.string().optional(),
          location_id: z.string().optional(),
          error: z.string().optional(),
        })
        .loose(),
    )
    .default([]),
});
export type BulkStockResult = z.output<typeof bulkStockResultSchema>;

export const stockRowSchema = z
  .object({
    product_id: zenflowId,
    barcode: z.string().nullable().optional(),
    sku: z.string().nullable().optional(),
    location_id: z.string(),
    quantity: z.number(),
  })
  .loose();
export type ZenflowStockRow = z.output<typeof stockRowSchema>;

export const stockListSchema = z
  .object({ stock: z.array(stockRowSchema).optional(), items: z.array(stockRowSchema).optional(), pagination: paginationSchema.optional() })
  .transform((d) => ({ stock: d.stock ?? d.items ?? [], pagination: d.pagination ?? {} }));

export const webhookSchema = z
  .object({
    id: zenflowId,
    name: z.string().optional(),
    url: z.string(),
    events: z.array(z.string()).default([]),
    secret: z.string().optional(),
    active: z.boolean().optional(),
  })
  .loose();
export type ZenflowWebhook = z.output<typeof webhookSchema>;

export const webhookListSchema = z
  .union([
    z.array(webhookSchema),
    z.object({ webhooks: z.array(webhookSchema).optional(), items: z.array(webhookSchema).optional() }).loose(),
  ])
  .transform((d) => (Array.isArray(d) ? d : (d.webhooks ?? d.items ?? [])));

export const orderListSchema = z
  .object({
    orders: z
      .array(z.object({ id: zenflowId, order_tenant_id: z.string().optional(), state_id: z.number().int().optional() }).loose())
      .default([]),
    pagination: paginationSchema.optional(),
  })
  .loose();
