// Stock levels per (sku, location). `set` is absolute, so repeating it is harmless.
import type { Knex } from "knex";
import type { ErpStockLevel, Page } from "../../../plugin/core/host-api";
import { erpError } from "./errors";
import { isPlainObject, nowIso, optionalString, requireNonEmptyString, requireObject } from "./input";
import { clampLimit, decodeCursor, encodeCursor } from "./paging";
import { stockFromRow, type StockRow } from "./rows";
import { forUpdate, type PendingEvent } from "./transaction";

export interface StockChange {
  sku: string;
  locationId: string;
  quantity: number;
  previousQuantity: number;
  reason?: string;
}

export async function setStock(
  trx: Knex.Transaction,
  events: PendingEvent[],
  input: { sku: string; locationId: string; quantity: number; reason?: string },
  origin?: string,
): Promise<StockChange> {
  const s = requireObject(input, "stock");
  const sku = requireNonEmptyString(s.sku, "sku");
  const locationId = requireNonEmptyString(s.locationId, "locationId");
  const reason = optionalString(s.reason, "reason") ?? undefined;
  const quantity = s.quantity;
  // Quantities are whole units; a fraction would be rounded differently by SQLite and MariaDB.
  if (typeof quantity !== "number" || !Number.isInteger(quantity)) throw erpError("invalid", "quantity must be an integer");
  if (quantity < 0) throw erpError("invalid", "quantity must not be negative");
  if (!(await trx("erp_locations").where({ id: locationId }).first("id"))) throw erpError("invalid", `unknown location "${locationId}"`);
  if (!(await trx("erp_products").where({ sku }).first("id"))) throw erpError("not_found", `no product with sku ${sku}`);
  const row = (await forUpdate(trx, trx<StockRow>("erp_stock").where({ sku, location_id: locationId }).first())) as StockRow | undefined;
  const previousQuantity = row ? Number(row.quantity) : 0;
  const change: StockChange = { sku, locationId, quantity, previousQuantity, ...(reason === undefined ? {} : { reason }) };
  // A missing row means 0 on hand, so setting 0 there is a no-op as well.
  if (previousQuantity === quantity) return change;
  const values = { quantity, updated_at: nowIso(), updated_origin: origin ?? null };
  if (row) await trx("erp_stock").where({ sku, location_id: locationId }).update(values);
  else await trx("erp_stock").insert({ sku, location_id: locationId, ...values });
  events.push({ name: "stock.changed", payload: change });
  return change;
}

export async function getStock(db: Knex, sku: string, locationId: string): Promise<number | null> {
  const row = (await db<StockRow>("erp_stock").where({ sku, location_id: locationId }).first()) as StockRow | undefined;
  return row ? Number(row.quantity) : null;
}

export async function listStock(db: Knex, q: { cursor?: string; limit?: number; locationId?: string } = {}): Promise<Page<ErpStockLevel>> {
  const query = isPlainObject(q) ? q : {};
  const limit = clampLimit(query.limit);
  const after = decodeCursor(query.cursor, ["s", "l"] as const);
  if (query.locationId !== undefined && typeof query.locationId !== "string") throw erpError("invalid", "locationId must be a string");
  const b = db<StockRow>("erp_stock");
  if (query.locationId) b.where("location_id", query.locationId);
  if (after)
    b.where((w) => w.where("sku", ">", after.s).orWhere((x) => x.where("sku", "=", after.s).andWhere("location_id", ">", after.l)));
  const rows = (await b.orderBy([{ column: "sku" }, { column: "location_id" }]).limit(limit + 1)) as StockRow[];
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    items: page.map(stockFromRow),
    nextCursor: rows.length > limit && last ? encodeCursor({ s: last.sku, l: last.location_id }) : null,
  };
}
