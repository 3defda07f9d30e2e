// ctx.erp.products and ctx.erp.stock over Vendure's product variants (the SKU lives on the
// variant) and their stock levels per stock location. Location ids are Vendure's
// StockLocation ids as strings; quantities are stockOnHand (physical stock).
import type { ProductVariant } from "@vendure/core";
import type { ErpApi, ErpProduct } from "zenflow-erp-plugin/host-api";
import { ErpError, guarded } from "./erp-error";
import { toErpProduct } from "./mapping";
import { clampLimit, idPage, keysetPage, storedDatetime } from "./paging";
import type { VendureAccess } from "./vendure-access";

export function vendureProducts(v: VendureAccess): ErpApi["products"] {
  const variants = v.table("product_variant");
  const map = (pv: ProductVariant) => toErpProduct(pv, { barcodeField: v.barcodeField, moneyPrecision: v.moneyPrecision });

  async function loadMany(ids: string[]): Promise<ErpProduct[]> {
    if (!ids.length) return [];
    const found = await v.variants.findByIds(await v.readCtx(), ids);
    const byId = new Map(found.filter((pv) => !pv.deletedAt).map((pv) => [String(pv.id), pv]));
    // findByIds does not keep the order we asked for.
    return ids.flatMap((id) => {
      const pv = byId.get(id);
      return pv ? [map(pv)] : [];
    });
  }

  return {
    get: (id) => guarded(async () => (/^\d+$/.test(id) ? ((await loadMany([id]))[0] ?? null) : null)),

    findBySku: (sku) => guarded(async () => {
      const row = (await v.db(variants).whereNull("deletedAt").andWhere({ sku }).orderBy("id").first("id")) as { id: number } | undefined;
      return row ? ((await loadMany([String(row.id)]))[0] ?? null) : null;
    }),

    list: (q) => guarded(async () => {
      const page = await keysetPage(v.db(variants).whereNull(`${variants}.deletedAt`), {
        timeColumn: `${variants}.updatedAt`,
        idColumn: `${variants}.id`,
        since: q.updatedSince === undefined ? undefined : storedDatetime(q.updatedSince, v.kind, v.timezone),
        cursor: q.cursor,
        limit: clampLimit(q.limit),
      });
      return { items: await loadMany(page.ids), nextCursor: page.nextCursor };
    }),
  };
}

export function vendureStock(v: VendureAccess): ErpApi["stock"] {
  const levels = v.table("stock_level");
  const variants = v.table("product_variant");
  const locations = v.table("stock_location");

  return {
    list: (q) => guarded(async () => {
      const base = v
        .db(levels)
        .join(variants, `${variants}.id`, `${levels}.productVariantId`)
        .whereNull(`${variants}.deletedAt`)
        .select({ id: `${levels}.id`, sku: `${variants}.sku`, locationId: `${levels}.stockLocationId`, quantity: `${levels}.stockOnHand` });
      if (q.locationId !== undefined) base.where(`${levels}.stockLocationId`, /^\d+$/.test(q.locationId) ? Number(q.locationId) : -1);
      const page = await idPage(base, { idColumn: `${levels}.id`, cursor: q.cursor, limit: clampLimit(q.limit) });
      return {
        items: page.rows.map((r) => ({ sku: String(r.sku), locationId: String(r.locationId), quantity: Number(r.quantity) })),
        nextCursor: page.nextCursor,
      };
    }),

    set: (s) => guarded(async () => {
      if (!Number.isInteger(s.quantity) || s.quantity < 0) throw new ErpError("invalid", "quantity must be an integer ≥ 0");
      const location = /^\d+$/.test(s.locationId)
        ? ((await v.db(locations).where({ id: Number(s.locationId) }).first("id")) as { id: number } | undefined)
        : undefined;
      if (!location) throw new ErpError("invalid", `no stock location with id ${s.locationId}`);
      const variant = (await v.db(variants).whereNull("deletedAt").andWhere({ sku: s.sku }).orderBy("id").first("id")) as { id: number } | undefined;
      if (!variant) throw new ErpError("not_found", `no product variant with SKU ${s.sku}`);
      await v.write(async (ctx) => {
        // adjustProductVariantStock records a StockAdjustment (and its event) only when the
        // level changes: setting the same level twice changes nothing and emits nothing.
        await v.stockMovements.adjustProductVariantStock(ctx, variant.id, [{ stockLocationId: location.id, stockOnHand: s.quantity }]);
      });
    }),
  };
}
