// /products endpoints (docs §6). GET /products is undocumented; its filters are ours.
import { Router } from "express";
import type { SandboxContext } from "../context";
import { notFound, type FieldError } from "../errors";
import {
  bulkUpsertProducts,
  createProduct,
  deleteProduct,
  findProductByBarcode,
  findProductBySku,
  productView,
  updateProduct,
} from "../products";
import { ok } from "../respond";
import type { SandboxProduct } from "../types";
import { paginate, parseIntegerId, parsePaging, queryString, throwIfQueryErrors } from "../validate";
import { param, query } from "./params";

export function productRoutes(ctx: SandboxContext): Router {
  const r = Router();
  const found = (p: SandboxProduct | undefined): SandboxProduct => {
    if (!p) throw notFound("Product not found");
    return p;
  };

  r.get("/products", (req, res) => {
    const q = query(req);
    const errors: FieldError[] = [];
    const paging = parsePaging(q, errors);
    const sku = queryString(q, "sku", errors);
    const barcode = queryString(q, "barcode", errors);
    const since = queryString(q, "updated_since", errors);
    let sinceMs: number | undefined;
    if (since !== undefined) {
      sinceMs = Date.parse(since);
      if (Number.isNaN(sinceMs)) errors.push({ field: "updated_since", message: "Must be an ISO-8601 timestamp" });
    }
    throwIfQueryErrors(errors);
    const matching = [...ctx.state.products.values()]
      .filter(
        (p) =>
          (sku === undefined || p.external_id === sku) &&
          (barcode === undefined || p.barcode === barcode) &&
          (sinceMs === undefined || Date.parse(p.updated_at) >= sinceMs),
      )
      .sort((a, b) => a.id - b.id);
    const { slice, pagination } = paginate(matching, paging);
    ok(res, { products: slice.map((p) => productView(ctx, p)), pagination });
  });

  r.post("/products/bulk", (req, res) => {
    ok(res, bulkUpsertProducts(ctx, req.body));
  });

  r.get("/products/sku/:sku", (req, res) => {
    ok(res, productView(ctx, found(findProductBySku(ctx, param(req, "sku")))));
  });

  r.get("/products/barcode/:barcode", (req, res) => {
    ok(res, productView(ctx, found(findProductByBarcode(ctx, param(req, "barcode")))));
  });

  r.get("/products/:id", (req, res) => {
    ok(res, productView(ctx, found(ctx.state.products.get(parseIntegerId(param(req, "id"), "Product")))));
  });

  r.post("/products", (req, res) => {
    ok(res, productView(ctx, createProduct(ctx, req.body)), 201);
  });

  r.put("/products/:id", (req, res) => {
    ok(res, productView(ctx, updateProduct(ctx, parseIntegerId(param(req, "id"), "Product"), req.body)));
  });

  r.delete("/products/:id", (req, res) => {
    ok(res, deleteProduct(ctx, parseIntegerId(param(req, "id"), "Product")));
  });

  return r;
}
