// An ERP product to bring into line with ZenFlow (bulk upsert, or soft delete).
import { z } from "zod";
import type { JobInput } from "./job";
import { entityKey, erpRefOf } from "./keys";
import { Priority } from "./priorities";

export const PRODUCT_KIND = "product";

export interface ProductJobPayload {
  productId: string;
  /** Set by product.deleted: the product is gone from the ERP, so its SKU travels with the job. */
  deleted?: { sku: string };
}

export const productJobPayloadSchema = z.object({ productId: z.string().min(1), deleted: z.object({ sku: z.string() }).optional() });

export function productJob(p: { id: string; sku?: string }, deleted = false): JobInput {
  return {
    kind: PRODUCT_KIND,
    entityKey: entityKey.product(p.id),
    erpRef: erpRefOf(p.sku),
    payload: { productId: p.id, ...(deleted && p.sku ? { deleted: { sku: p.sku } } : {}) } satisfies ProductJobPayload,
    priority: Priority.product,
  };
}
