// Products: the ERP's own catalogue operations and the reads behind ctx.erp.products.
import { randomUUID } from "node:crypto";
import type { Knex } from "knex";
import type { ErpProduct, Page } from "../../../plugin/core/host-api";
import { erpError } from "./errors";
import { isPlainObject, nowIso, optionalBoolean, optionalNumber, optionalString, requireNonEmptyString, requireObject } from "./input";
import { clampLimit, decodeCursor, encodeCursor, normaliseTimestamp } from "./paging";
import { productFromRow, type ProductRow } from "./rows";
import { forUpdate, type PendingEvent } from "./transaction";

export interface NewProductInput {
  id?: string;
  sku: string;
  barcode?: string | null;
  name: string;
  category?: string | null;
  weightKg?: number | null;
  price?: string | null;
  active?: boolean;
}

export type ProductPatch = Partial<Omit<NewProductInput, "id">>;

async function loadRow(trx: Knex.Transaction, id: unknown): Promise<ProductRow> {
  if (typeof id !== "string") throw erpError("invalid", "product id must be a string");
  const row = (await forUpdate(trx, trx<ProductRow>("erp_products").where({ id }).first())) as ProductRow | undefined;
  if (!row) throw erpError("not_found", `product ${id} not found`);
  return row;
}

export async function createProduct(
  trx: Knex.Transaction,
  events: PendingEvent[],
  input: NewProductInput,
  origin?: string,
): Promise<ErpProduct> {
  const p = requireObject(input, "product");
  const row: ProductRow = {
    id: p.id === undefined ? `prd_${randomUUID()}` : requireNonEmptyString(p.id, "id"),
    sku: requireNonEmptyString(p.sku, "sku"),
    barcode: optionalString(p.barcode, "barcode") ?? null,
    name: requireNonEmptyString(p.name, "name"),
    category: optionalString(p.category, "category") ?? null,
    weight_kg: optionalNumber(p.weightKg, "weightKg") ?? null,
    price: optionalString(p.price, "price") ?? null,
    active: optionalBoolean(p.active, "active") ?? true,
    updated_origin: origin ?? null,
    updated_at: nowIso(),
  };
  const existing = await trx("erp_products").where({ sku: row.sku }).first("id");
  if (existing) throw erpError("conflict", `a product with sku ${row.sku} already exists`);
  await trx("erp_products").insert(row);
  const product = productFromRow(row);
  events.push({ name: "product.created", payload: product });
  return product;
}

export async function updateProduct(
  trx: Knex.Transaction,
  events: PendingEvent[],
  id: string,
  patch: ProductPatch,
  origin?: string,
): Promise<ErpProduct> {
  const p = requireObject(patch, "patch");
  const before = await loadRow(trx, id);
  const next: Partial<ProductRow> = {};
  if (p.sku !== undefined) next.sku = requireNonEmptyString(p.sku, "sku");
  if (p.name !== undefined) next.name = requireNonEmptyString(p.name, "name");
  if (p.barcode !== undefined) next.barcode = optionalString(p.barcode, "barcode") ?? null;
  if (p.category !== undefined) next.category = optionalString(p.category, "category") ?? null;
  if (p.weightKg !== undefined) next.weight_kg = optionalNumber(p.weightKg, "weightKg") ?? null;
  if (p.price !== undefined) next.price = optionalString(p.price, "price") ?? null;
  if (p.active !== undefined) next.active = optionalBoolean(p.active, "active") ?? true;
  const current = productFromRow(before);
  const changes: Partial<ProductRow> = {};
  const compare: [keyof ProductRow, unknown][] = [
    ["sku", current.sku],
    ["name", current.name],
    ["barcode", current.barcode],
    ["category", current.category],
    ["weight_kg", current.weightKg],
    ["price", current.price],
    ["active", current.active],
  ];
  for (const [col, old] of compare) {
    if (col in next && next[col] !== old) (changes as Record<string, unknown>)[col] = next[col];
  }
  if (Object.keys(changes).length === 0) return current;
  if (changes.sku !== undefined) {
    const clash = await trx("erp_products").where({ sku: changes.sku }).whereNot({ id: before.id }).first("id");
    if (clash) throw erpError("conflict", `a product with sku ${changes.sku} already exists`);
  }
  const update = { ...changes, updated_at: nowIso(), updated_origin: origin ?? null };
  await trx("erp_products").where({ id: before.id }).update(update);
  const product = productFromRow({ ...before, ...update } as ProductRow);
  events.push({ name: "product.updated", payload: product });
  return product;
}

export async function deleteProduct(trx: Knex.Transaction, events: PendingEvent[], id: string): Promise<void> {
  const before = await loadRow(trx, id);
  await trx("erp_products").where({ id: before.id }).delete();
  events.push({ name: "product.deleted", payload: { id: before.id, sku: before.sku } });
}

// ---- reads ----

export async function getProduct(db: Knex, id: string): Promise<ErpProduct | null> {
  if (typeof id !== "string") throw erpError("invalid", "product id must be a string");
  const row = (await db<ProductRow>("erp_products").where({ id }).first()) as ProductRow | undefined;
  return row ? productFromRow(row) : null;
}

export async function findBySku(db: Knex, sku: string): Promise<ErpProduct | null> {
  if (typeof sku !== "string") throw erpError("invalid", "sku must be a string");
  const row = (await db<ProductRow>("erp_products").where({ sku }).first()) as ProductRow | undefined;
  return row ? productFromRow(row) : null;
}

export async function listProducts(
  db: Knex,
  q: { updatedSince?: string; cursor?: string; limit?: number } = {},
): Promise<Page<ErpProduct>> {
  const query = isPlainObject(q) ? q : {};
  const limit = clampLimit(query.limit);
  const since = normaliseTimestamp(query.updatedSince, "updatedSince");
  const after = decodeCursor(query.cursor, ["u", "i"] as const);
  const b = db<ProductRow>("erp_products");
  if (since) b.where("updated_at", ">=", since);
  if (after)
    b.where((w) => w.where("updated_at", ">", after.u).orWhere((x) => x.where("updated_at", "=", after.u).andWhere("id", ">", after.i)));
  const rows = (await b.orderBy([{ column: "updated_at" }, { column: "id" }]).limit(limit + 1)) as ProductRow[];
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    items: page.map(productFromRow),
    nextCursor: rows.length > limit && last ? encodeCursor({ u: last.updated_at, i: last.id }) : null,
  };
}
