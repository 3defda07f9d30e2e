// The sandbox's single tenant data set (all keys share it) and its id counters.
// Id starting points follow the documented examples: order 12345, line 1001, product 100.
import type { SandboxMovement, SandboxOrder, SandboxProduct, SandboxWebhook } from "./types";

export interface StockRecord {
  product_id: number;
  location_id: string;
  quantity: number;
  min_quantity: number;
  max_quantity: number | null;
  updated_at: string;
}

export class SandboxState {
  readonly orders = new Map<number, SandboxOrder>();
  readonly orderIdsByTenant = new Map<string, number>();
  readonly products = new Map<number, SandboxProduct>();
  readonly productIdsByBarcode = new Map<string, number>();
  readonly productIdsBySku = new Map<string, number>();
  /** Keyed by stockKey(product_id, location_id). */
  readonly stock = new Map<string, StockRecord>();
  readonly movements: SandboxMovement[] = [];
  readonly webhooks: SandboxWebhook[] = [];
  nextOrderId = 12345;
  nextLineId = 1001;
  nextProductId = 100;
  nextMovementId = 1;
}

export function stockKey(productId: number, locationId: string): string {
  return `${productId}|${locationId}`;
}
