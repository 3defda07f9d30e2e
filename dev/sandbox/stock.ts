// Stock per (product, location) (docs §7): absolute sets (PUT, bulk, warehouse
// setStock), relative adjustments, movement history and the stock/updated webhook
// (payload undocumented; ours is {product_id, product_barcode, sku, location_id,
// quantity, previous_quantity, source}).
import type { SandboxContext } from "./context";
import { fieldError, notFound, validationError, type FieldError } from "./errors";
import { findProductById, findProductBySku, locationCode, productStock } from "./products";
import { stockKey } from "./state";
import { datePart, isoSeconds } from "./time";
import type { MovementType, SandboxMovement, SandboxProduct, SandboxStockRow } from "./types";
import { isFiniteNumber, isNonEmptyString, optionalString, requireObjectBody } from "./validate";

export interface QuantityChange {
  previous: number;
  next: number;
  movement: SandboxMovement | null;
}

/**
 * Sets an absolute quantity. A movement is recorded when the quantity changes (or
 * always, for PUT, whose answer carries a movement_id); stock/updated only on change.
 */
export function setQuantity(
  ctx: SandboxContext,
  product: SandboxProduct,
  locationId: string,
  quantity: number,
  o: { reason: string | null; source: "api" | "manual"; movementType?: MovementType; alwaysRecord?: boolean },
): QuantityChange {
  const s = ctx.state;
  const key = stockKey(product.id, locationId);
  const row = s.stock.get(key);
  const previous = row?.quantity ?? 0;
  const now = isoSeconds(ctx.now());
  if (row) {
    row.quantity = quantity;
    row.updated_at = now;
  } else {
    s.stock.set(key, { product_id: product.id, location_id: locationId, quantity, min_quantity: 0, max_quantity: null, updated_at: now });
  }
  let movement: SandboxMovement | null = null;
  if (previous !== quantity || o.alwaysRecord) {
    movement = {
      id: `MOV-${s.nextMovementId++}`,
      product_id: product.id,
      product_name: product.name,
      location_id: locationId,
      movement_type: o.movementType ?? "ADJUSTMENT",
      quantity: Math.abs(quantity - previous),
      previous_quantity: previous,
      new_quantity: quantity,
      reason: o.reason,
      created_at: now,
    };
    s.movements.push(movement);
  }
  if (previous !== quantity) {
    ctx.emit("stock/updated", {
      product_id: product.id,
      product_barcode: product.barcode,
      sku: product.external_id,
      location_id: locationId,
      quantity,
      previous_quantity: previous,
      source: o.source,
    });
  }
  return { previous, next: quantity, movement };
}

export function isKnownLocation(ctx: SandboxContext, locationId: string): boolean {
  return ctx.opts.locations.includes(locationId);
}

export function stockRows(ctx: SandboxContext): SandboxStockRow[] {
  const rows: SandboxStockRow[] = [];
  for (const r of ctx.state.stock.values()) {
    const p = ctx.state.products.get(r.product_id);
    if (!p) continue;
    rows.push({
      product_id: p.id,
      product_name: p.name,
      barcode: p.barcode,
      sku: p.external_id,
      location_id: r.location_id,
      location_code: locationCode(r.location_id),
      quantity: r.quantity,
      min_quantity: r.min_quantity,
      max_quantity: r.max_quantity,
      updated_at: r.updated_at,
    });
  }
  return rows.sort((a, b) => a.product_id - b.product_id || (a.location_id < b.location_id ? -1 : a.location_id > b.location_id ? 1 : 0));
}

/** Shape of GET /stock rows (§7.1): the stored row without updated_at. */
export function stockRowView(r: SandboxStockRow): Record<string, unknown> {
  const { updated_at: _ignored, ...rest } = r;
  return rest;
}

/** Shape §7.3, used by /stock/sku/:sku and /stock/product/:id. */
export function productStockView(ctx: SandboxContext, p: SandboxProduct): Record<string, unknown> {
  const locations = productStock(ctx, p.id);
  return {
    product_id: p.id,
    sku: p.external_id,
    product_name: p.name,
    total_quantity: locations.reduce((sum, l) => sum + l.quantity, 0),
    locations,
  };
}

function checkLocationAndQuantity(ctx: SandboxContext, body: Record<string, unknown>): { locationId: string; quantity: number } {
  if (!isNonEmptyString(body.location_id)) throw fieldError("location_id", "Location ID is required");
  if (!isFiniteNumber(body.quantity)) throw fieldError("quantity", "Quantity is required and must be a number");
  if (body.quantity < 0) throw fieldError("quantity", "Quantity must be zero or positive");
  if (!isKnownLocation(ctx, body.location_id)) throw fieldError("location_id", `Unknown location ${body.location_id}`);
  return { locationId: body.location_id, quantity: body.quantity };
}

export function putStock(ctx: SandboxContext, productId: number, rawBody: unknown): Record<string, unknown> {
  const body = requireObjectBody(rawBody);
  const { locationId, quantity } = checkLocationAndQuantity(ctx, body);
  if (!optionalString(body.reason)) throw fieldError("reason", "Reason must be a string");
  const product = findProductById(ctx, productId);
  if (!product) throw notFound("Product not found");
  const change = setQuantity(ctx, product, locationId, quantity, {
    reason: (body.reason as string | null | undefined) ?? null,
    source: "api",
    alwaysRecord: true,
  });
  return {
    product_id: product.id,
    location_id: locationId,
    previous_quantity: change.previous,
    new_quantity: change.next,
    movement_id: change.movement!.id,
  };
}

export interface BulkStockResult {
  success: number;
  errors: { product_id: number; sku?: string; error: string }[];
}

export function bulkStock(ctx: SandboxContext, rawBody: unknown): BulkStockResult {
  const body = requireObjectBody(rawBody);
  if (!Array.isArray(body.updates)) throw validationError("Invalid bulk data", [{ field: "updates", message: "Must be an array" }]);
  if (body.updates.length > ctx.opts.maxBatch) throw fieldError("updates", `At most ${ctx.opts.maxBatch} updates per request`);
  const result: BulkStockResult = { success: 0, errors: [] };
  for (const raw of body.updates as unknown[]) {
    const item = typeof raw === "object" && raw !== null && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
    const sku = typeof item.sku === "string" ? item.sku : undefined;
    const idGiven = Number.isInteger(item.product_id) ? (item.product_id as number) : undefined;
    const fail = (error: string, productId = 0) => {
      const e: BulkStockResult["errors"][number] = { product_id: productId, error };
      if (sku !== undefined) e.sku = sku;
      result.errors.push(e);
    };
    let product: SandboxProduct | undefined;
    if (idGiven !== undefined) {
      product = findProductById(ctx, idGiven);
      if (!product) {
        fail(`Product ${idGiven} not found`, idGiven);
        continue;
      }
    } else if (sku !== undefined) {
      product = findProductBySku(ctx, sku);
      if (!product) {
        // Documented: an item addressed by SKU that fails reports product_id 0.
        fail(`Product with SKU ${sku} not found`);
        continue;
      }
    } else {
      fail("Product ID or SKU is required");
      continue;
    }
    if (!isNonEmptyString(item.location_id)) {
      fail("Location ID is required", product.id);
      continue;
    }
    if (!isKnownLocation(ctx, item.location_id)) {
      fail(`Unknown location ${item.location_id}`, product.id);
      continue;
    }
    if (!isFiniteNumber(item.quantity)) {
      fail("Quantity is required and must be a number", product.id);
      continue;
    }
    if (item.quantity < 0) {
      fail("Quantity must be zero or positive", product.id);
      continue;
    }
    setQuantity(ctx, product, item.location_id, item.quantity, {
      reason: typeof item.reason === "string" ? item.reason : "Bulk update",
      source: "api",
    });
    result.success++;
  }
  return result;
}

export function adjustStock(ctx: SandboxContext, rawBody: unknown): Record<string, unknown> {
  const body = requireObjectBody(rawBody);
  const hasId = body.product_id !== undefined && body.product_id !== null;
  const hasSku = body.sku !== undefined && body.sku !== null;
  if (!hasId && !hasSku) throw fieldError("product_id", "Product ID or SKU is required");
  if (hasId && !Number.isInteger(body.product_id)) throw fieldError("product_id", "Product ID must be an integer");
  if (hasSku && !isNonEmptyString(body.sku)) throw fieldError("sku", "SKU must be a non-empty string");
  if (!isNonEmptyString(body.location_id)) throw fieldError("location_id", "Location ID is required");
  if (!isFiniteNumber(body.adjustment_quantity))
    throw fieldError("adjustment_quantity", "Adjustment quantity is required and must be a number");
  if (body.adjustment_quantity === 0) throw fieldError("adjustment_quantity", "Adjustment quantity cannot be zero");
  if (!optionalString(body.reason)) throw fieldError("reason", "Reason must be a string");
  if (!isKnownLocation(ctx, body.location_id)) throw fieldError("location_id", `Unknown location ${body.location_id}`);
  const product = hasId ? findProductById(ctx, body.product_id as number) : findProductBySku(ctx, body.sku as string);
  if (!product) throw notFound("Product not found");
  if (hasId && hasSku && product.external_id !== body.sku) throw fieldError("sku", "product_id and sku refer to different products");
  const delta = body.adjustment_quantity;
  const previous = ctx.state.stock.get(stockKey(product.id, body.location_id))?.quantity ?? 0;
  // Negative stock is not documented; the sandbox refuses it like PUT refuses negative quantities.
  if (previous + delta < 0) throw fieldError("adjustment_quantity", `Insufficient stock: ${previous} available at ${body.location_id}`);
  setQuantity(ctx, product, body.location_id, previous + delta, {
    reason: (body.reason as string | null | undefined) ?? null,
    source: "api",
    movementType: delta > 0 ? "IN" : "OUT",
  });
  return {
    type: delta > 0 ? "addition" : "removal",
    quantity_adjusted: delta,
    stock: { product_id: product.id, location_id: body.location_id, previous_quantity: previous, new_quantity: previous + delta },
  };
}

export const MOVEMENT_TYPES: readonly MovementType[] = ["IN", "OUT", "TRANSFER", "ADJUSTMENT"];

export function filterMovements(
  ctx: SandboxContext,
  f: { productId?: number; locationId?: string; type?: string; startDate?: string; endDate?: string },
): SandboxMovement[] {
  return ctx.state.movements
    .filter(
      (m) =>
        (f.productId === undefined || m.product_id === f.productId) &&
        (f.locationId === undefined || m.location_id === f.locationId) &&
        (f.type === undefined || m.movement_type === f.type) &&
        (f.startDate === undefined || datePart(m.created_at) >= f.startDate) &&
        (f.endDate === undefined || datePart(m.created_at) <= f.endDate),
    )
    .reverse(); // newest first, as in the documented example
}

export function checkMovementType(v: string | undefined, errors: FieldError[]): void {
  if (v !== undefined && !MOVEMENT_TYPES.includes(v as MovementType))
    errors.push({ field: "movement_type", message: `Must be one of ${MOVEMENT_TYPES.join(", ")}` });
}
