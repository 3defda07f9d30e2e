// Product catalog (docs §6): barcode and SKU both unique, soft delete, bulk upsert
// matched by barcode, and the product/* webhooks (payload undocumented; ours is
// {product_id, barcode, sku, name, is_active}).
import type { SandboxContext } from "./context";
import { ApiError, notFound, validationError, type FieldError } from "./errors";
import { stockKey } from "./state";
import { isoSeconds } from "./time";
import type { SandboxProduct } from "./types";
import { isFiniteNumber, isNonEmptyString, isPlainObject, requireObjectBody } from "./validate";

const STRING_FIELDS = ["sku", "category", "description", "photo_url"] as const;
const NUMBER_FIELDS = ["price", "weight", "width", "height", "depth"] as const;
const LABELS: Record<string, string> = { price: "Price", weight: "Weight", width: "Width", height: "Height", depth: "Depth" };

type ProductInput = Record<string, unknown>;

/** Checks the optional fields; returns field errors (messages usable alone in bulk errors). */
function checkOptionalFields(p: ProductInput): FieldError[] {
  const errors: FieldError[] = [];
  for (const f of STRING_FIELDS) {
    const v = p[f];
    if (v !== undefined && v !== null && typeof v !== "string") errors.push({ field: f, message: `${f} must be a string` });
  }
  for (const f of NUMBER_FIELDS) {
    const v = p[f];
    if (v === undefined || v === null) continue;
    if (!isFiniteNumber(v)) errors.push({ field: f, message: `${LABELS[f]} must be a number` });
    else if (v < 0) errors.push({ field: f, message: `${LABELS[f]} must be zero or positive` });
  }
  if (p.weighable !== undefined && typeof p.weighable !== "boolean")
    errors.push({ field: "weighable", message: "weighable must be a boolean" });
  if (p.is_active !== undefined && typeof p.is_active !== "boolean")
    errors.push({ field: "is_active", message: "is_active must be a boolean" });
  if (p.name !== undefined && !isNonEmptyString(p.name)) errors.push({ field: "name", message: "Name is required" });
  return errors;
}

export function productView(ctx: SandboxContext, p: SandboxProduct): Record<string, unknown> {
  return {
    ...p,
    stock: productStock(ctx, p.id).map((r) => ({
      location_id: r.location_id,
      location_code: locationCode(r.location_id),
      quantity: r.quantity,
    })),
  };
}

export function productStock(ctx: SandboxContext, productId: number): { location_id: string; quantity: number }[] {
  return ctx.opts.locations
    .map((loc) => ctx.state.stock.get(stockKey(productId, loc)))
    .filter((r) => r !== undefined)
    .sort((a, b) => (a.location_id < b.location_id ? -1 : a.location_id > b.location_id ? 1 : 0))
    .map((r) => ({ location_id: r.location_id, quantity: r.quantity }));
}

/** Location code derived from the id: LOC-A1 → A-01-01, LOC-B12 → B-01-12 (matches the documented pairs). */
export function locationCode(locationId: string): string {
  const m = /^LOC-([A-Za-z]+)(\d+)$/.exec(locationId);
  if (!m) return locationId;
  return `${m[1]!.toUpperCase()}-01-${m[2]!.padStart(2, "0")}`;
}

function emitProduct(ctx: SandboxContext, event: string, p: SandboxProduct): void {
  ctx.emit(event, { product_id: p.id, barcode: p.barcode, sku: p.external_id, name: p.name, is_active: p.is_active });
}

export function findProductById(ctx: SandboxContext, id: number): SandboxProduct | undefined {
  return ctx.state.products.get(id);
}

export function findProductBySku(ctx: SandboxContext, sku: string): SandboxProduct | undefined {
  const id = ctx.state.productIdsBySku.get(sku);
  return id === undefined ? undefined : ctx.state.products.get(id);
}

export function findProductByBarcode(ctx: SandboxContext, barcode: string): SandboxProduct | undefined {
  const id = ctx.state.productIdsByBarcode.get(barcode);
  return id === undefined ? undefined : ctx.state.products.get(id);
}

function skuConflict(ctx: SandboxContext, sku: unknown, selfId: number | null): string | null {
  if (typeof sku !== "string" || sku === "") return null;
  const owner = ctx.state.productIdsBySku.get(sku);
  return owner !== undefined && owner !== selfId ? `SKU ${sku} is already used by product ${owner}` : null;
}

function insertProduct(ctx: SandboxContext, p: ProductInput): SandboxProduct {
  const s = ctx.state;
  const now = isoSeconds(ctx.now());
  const sku = typeof p.sku === "string" && p.sku !== "" ? p.sku : null;
  const product: SandboxProduct = {
    id: s.nextProductId++,
    barcode: p.barcode as string,
    external_id: sku,
    name: (p.name as string).trim(),
    description: (p.description as string | null | undefined) ?? null,
    category: (p.category as string | null | undefined) ?? null,
    price: (p.price as number | null | undefined) ?? null,
    weight: (p.weight as number | null | undefined) ?? null,
    width: (p.width as number | null | undefined) ?? null,
    height: (p.height as number | null | undefined) ?? null,
    depth: (p.depth as number | null | undefined) ?? null,
    sales_unit: 1,
    weighable: (p.weighable as boolean | undefined) ?? false,
    photo_url: (p.photo_url as string | null | undefined) ?? null,
    is_active: true,
    created_at: now,
    updated_at: now,
  };
  s.products.set(product.id, product);
  s.productIdsByBarcode.set(product.barcode, product.id);
  if (sku) s.productIdsBySku.set(sku, product.id);
  emitProduct(ctx, "product/created", product);
  return product;
}

/** Applies the given fields; returns true when something changed (and emits product/updated). */
function applyChanges(ctx: SandboxContext, product: SandboxProduct, p: ProductInput, fields: readonly string[]): boolean {
  let changed = false;
  const set = <K extends keyof SandboxProduct>(k: K, v: SandboxProduct[K]) => {
    if (product[k] !== v) {
      product[k] = v;
      changed = true;
    }
  };
  for (const f of fields) {
    const v = p[f];
    if (v === undefined) continue;
    switch (f) {
      case "name":
        set("name", (v as string).trim());
        break;
      case "sku": {
        // A null/empty SKU leaves the current one (clearing SKUs is not a documented operation).
        if (typeof v !== "string" || v === "") break;
        if (product.external_id !== v) {
          if (product.external_id) ctx.state.productIdsBySku.delete(product.external_id);
          ctx.state.productIdsBySku.set(v, product.id);
          set("external_id", v);
        }
        break;
      }
      case "category":
      case "description":
      case "photo_url":
        set(f, v as string | null);
        break;
      case "price":
      case "weight":
      case "width":
      case "height":
      case "depth":
        set(f, v as number | null);
        break;
      case "weighable":
      case "is_active":
        set(f, v as boolean);
        break;
    }
  }
  if (changed) {
    product.updated_at = isoSeconds(ctx.now());
    emitProduct(ctx, "product/updated", product);
  }
  return changed;
}

export function createProduct(ctx: SandboxContext, rawBody: unknown): SandboxProduct {
  const body = requireObjectBody(rawBody);
  if (!isNonEmptyString(body.name) || !isNonEmptyString(body.barcode)) {
    const details: FieldError[] = [];
    if (!isNonEmptyString(body.name)) details.push({ field: "name", message: "Name is required" });
    if (!isNonEmptyString(body.barcode)) details.push({ field: "barcode", message: "Barcode is required" });
    throw validationError("Name and barcode are required", details);
  }
  const errors = checkOptionalFields(body);
  if (errors.length > 0) throw validationError("Invalid product data", errors);
  if (ctx.state.productIdsByBarcode.has(body.barcode))
    throw new ApiError(409, "already_exists", "Product with this barcode already exists");
  const conflict = skuConflict(ctx, body.sku, null);
  if (conflict) throw new ApiError(409, "already_exists", conflict);
  return insertProduct(ctx, body);
}

const UPDATABLE = ["name", "category", "description", "price", "weight", "photo_url", "is_active"] as const;

export function updateProduct(ctx: SandboxContext, id: number, rawBody: unknown): SandboxProduct {
  const product = ctx.state.products.get(id);
  if (!product) throw notFound("Product not found");
  const body = requireObjectBody(rawBody);
  const subset: ProductInput = {};
  for (const f of UPDATABLE) if (body[f] !== undefined) subset[f] = body[f];
  const errors = checkOptionalFields(subset);
  if (errors.length > 0) throw validationError("Invalid product data", errors);
  applyChanges(ctx, product, subset, UPDATABLE);
  return product;
}

export function deleteProduct(ctx: SandboxContext, id: number): { message: string; product_id: number } {
  const product = ctx.state.products.get(id);
  if (!product) throw notFound("Product not found");
  if (product.is_active) {
    product.is_active = false;
    product.updated_at = isoSeconds(ctx.now());
    emitProduct(ctx, "product/deleted", product);
  }
  return { message: "Product deleted successfully", product_id: id };
}

const BULK_FIELDS = [
  "name",
  "sku",
  "category",
  "description",
  "price",
  "weight",
  "width",
  "height",
  "depth",
  "weighable",
  "photo_url",
] as const;

export interface BulkProductsResult {
  created: number;
  updated: number;
  errors: { barcode: unknown; error: string }[];
}

/** Upsert by barcode; a failing item is reported and the rest continue. */
export function bulkUpsertProducts(ctx: SandboxContext, rawBody: unknown): BulkProductsResult {
  const body = requireObjectBody(rawBody);
  if (!Array.isArray(body.products)) throw validationError("Invalid bulk data", [{ field: "products", message: "Must be an array" }]);
  if (body.products.length > ctx.opts.maxBatch) {
    const message = `At most ${ctx.opts.maxBatch} products per request`;
    throw validationError(message, [{ field: "products", message }]);
  }
  const result: BulkProductsResult = { created: 0, updated: 0, errors: [] };
  for (const raw of body.products as unknown[]) {
    const item: ProductInput = isPlainObject(raw) ? raw : {};
    const barcode = item.barcode ?? null;
    const fail = (error: string) => result.errors.push({ barcode, error });
    if (!isNonEmptyString(item.barcode)) {
      fail("Barcode is required");
      continue;
    }
    if (!isNonEmptyString(item.name)) {
      fail("Name is required");
      continue;
    }
    const fieldErrors = checkOptionalFields(item);
    if (fieldErrors.length > 0) {
      fail(fieldErrors[0]!.message);
      continue;
    }
    const existing = findProductByBarcode(ctx, item.barcode);
    const conflict = skuConflict(ctx, item.sku, existing?.id ?? null);
    if (conflict) {
      fail(conflict);
      continue;
    }
    if (existing) {
      // Matching a soft-deleted product re-activates it (bulk is the catalog sync path).
      applyChanges(ctx, existing, { ...item, is_active: true }, [...BULK_FIELDS, "is_active"]);
      result.updated++;
    } else {
      insertProduct(ctx, item);
      result.created++;
    }
  }
  return result;
}
