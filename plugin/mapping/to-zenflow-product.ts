// ERP product → ZenFlow bulk-upsert item (pure). ZenFlow matches products by barcode; a
// product without one follows the admin's choice (send the SKU as barcode, or skip it).
import type { ZenflowConfig } from "../core/config";
import { type FieldProblem, MappingError } from "../core/errors";
import type { ErpProduct } from "../core/host-api";
import type { ZenflowProductPayload } from "../zenflow/client";
import { hashOf } from "./hash";

const DECIMAL_RE = /^\d+(\.\d+)?$/;

export function productLabel(p: Partial<ErpProduct> | null | undefined): string {
  return `Product ${p?.sku || p?.id || "(no SKU)"}`;
}

export interface MappedProduct {
  payload: ZenflowProductPayload;
  hash: string;
}

export function toZenflowProduct(p: ErpProduct, config: Pick<ZenflowConfig, "productBarcodeFallback">): MappedProduct {
  const problems: FieldProblem[] = [];
  const sku = typeof p.sku === "string" ? p.sku.trim() : "";
  if (!sku) problems.push({ field: "sku", message: "is empty" });
  const name = typeof p.name === "string" ? p.name.trim() : "";
  if (!name) problems.push({ field: "name", message: "is empty: ZenFlow requires a product name" });
  let barcode = typeof p.barcode === "string" ? p.barcode.trim() : "";
  if (!barcode) {
    if (config.productBarcodeFallback === "use-sku" && sku) barcode = sku;
    else
      problems.push({
        field: "barcode",
        message: "is missing and the settings say to skip such products (Products without a barcode: skip)",
      });
  }
  let price: number | undefined;
  if (p.price !== undefined && p.price !== null && p.price !== "") {
    const raw = String(p.price).trim();
    if (!DECIMAL_RE.test(raw)) problems.push({ field: "price", message: `"${raw.slice(0, 20)}" is not a non-negative decimal amount` });
    else price = Number(raw);
  }
  let weight: number | undefined;
  if (p.weightKg !== undefined && p.weightKg !== null) {
    if (typeof p.weightKg !== "number" || !Number.isFinite(p.weightKg) || p.weightKg < 0)
      problems.push({ field: "weightKg", message: "must be zero or more" });
    else weight = p.weightKg;
  }
  if (problems.length) throw new MappingError(productLabel(p), problems);
  const payload: ZenflowProductPayload = {
    barcode,
    name,
    sku,
    ...(p.category ? { category: String(p.category) } : {}),
    ...(price !== undefined ? { price } : {}),
    ...(weight !== undefined ? { weight } : {}),
  };
  return { payload, hash: hashOf(payload) };
}
