// The absolute level of one (SKU, ERP location) to push to ZenFlow. A later change of the
// same pair replaces it before it is sent (the default merge: the newer payload wins).
import { z } from "zod";
import type { JobInput } from "./job";
import { entityKey, erpRefOf } from "./keys";
import { Priority } from "./priorities";

export const STOCK_KIND = "stock";

export interface StockJobPayload {
  sku: string;
  locationId: string;
  quantity: number;
}

export const stockJobPayloadSchema = z.object({ sku: z.string(), locationId: z.string(), quantity: z.unknown() });

export function stockJob(s: StockJobPayload): JobInput {
  return {
    kind: STOCK_KIND,
    entityKey: entityKey.stock(s.sku, s.locationId),
    erpRef: erpRefOf(s.sku),
    payload: { sku: s.sku, locationId: s.locationId, quantity: s.quantity } satisfies StockJobPayload,
    priority: Priority.stock,
  };
}
