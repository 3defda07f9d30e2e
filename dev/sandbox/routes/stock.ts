// /stock endpoints (docs §7).
import { Router } from "express";
import type { SandboxContext } from "../context";
import { notFound, type FieldError } from "../errors";
import { findProductById, findProductBySku } from "../products";
import { ok } from "../respond";
import { adjustStock, bulkStock, checkMovementType, filterMovements, productStockView, putStock, stockRows, stockRowView } from "../stock";
import { paginate, parseIntegerId, parsePaging, queryBool, queryDate, queryInt, queryString, throwIfQueryErrors } from "../validate";
import { param, query } from "./params";

export function stockRoutes(ctx: SandboxContext): Router {
  const r = Router();

  r.get("/stock", (req, res) => {
    const q = query(req);
    const errors: FieldError[] = [];
    const paging = parsePaging(q, errors);
    const productId = queryInt(q, "product_id", errors);
    const locationId = queryString(q, "location_id", errors);
    // The search parameter's name is not shown in the docs; "search" is ours.
    const search = queryString(q, "search", errors)?.toLowerCase();
    throwIfQueryErrors(errors);
    const lowOnly = queryBool(q, "low_stock");
    const matching = stockRows(ctx).filter(
      (row) =>
        (productId === undefined || row.product_id === productId) &&
        (locationId === undefined || row.location_id === locationId) &&
        // "Below minimum" is read as quantity <= min_quantity so empty rows (min 0) show up.
        (!lowOnly || row.quantity <= row.min_quantity) &&
        (search === undefined || [row.product_name, row.barcode, row.sku ?? ""].some((s) => s.toLowerCase().includes(search))),
    );
    const { slice, pagination } = paginate(matching, paging);
    ok(res, { stock: slice.map(stockRowView), pagination });
  });

  r.get("/stock/movements", (req, res) => {
    const q = query(req);
    const errors: FieldError[] = [];
    const paging = parsePaging(q, errors);
    const productId = queryInt(q, "product_id", errors);
    const locationId = queryString(q, "location_id", errors);
    const type = queryString(q, "movement_type", errors);
    checkMovementType(type, errors);
    const startDate = queryDate(q, "start_date", errors);
    const endDate = queryDate(q, "end_date", errors);
    throwIfQueryErrors(errors);
    const { slice, pagination } = paginate(filterMovements(ctx, { productId, locationId, type, startDate, endDate }), paging);
    ok(res, { movements: slice, pagination });
  });

  r.get("/stock/product/:id", (req, res) => {
    const p = findProductById(ctx, parseIntegerId(param(req, "id"), "Product"));
    if (!p) throw notFound("Product not found");
    ok(res, productStockView(ctx, p));
  });

  r.get("/stock/sku/:sku", (req, res) => {
    const p = findProductBySku(ctx, param(req, "sku"));
    if (!p) throw notFound("Product not found");
    ok(res, productStockView(ctx, p));
  });

  r.put("/stock/product/:id", (req, res) => {
    ok(res, putStock(ctx, parseIntegerId(param(req, "id"), "Product"), req.body));
  });

  r.post("/stock/bulk", (req, res) => {
    ok(res, bulkStock(ctx, req.body));
  });

  r.post("/stock/adjustment", (req, res) => {
    ok(res, adjustStock(ctx, req.body));
  });

  return r;
}
