// Vendure entities → the contract's records (pure functions). Money arrives in Vendure's
// integer minor units and leaves as decimal strings, converted without floating point.
import type { Order, ProductVariant } from "@vendure/core";
import type { ErpOrder, ErpOrderItem, ErpProduct } from "zenflow-erp-plugin/host-api";

/** 1990 with precision 2 → "19.90"; -5 → "-0.05". */
export function minorToDecimal(minor: number, precision = 2): string {
  const sign = minor < 0 ? "-" : "";
  const digits = String(Math.abs(Math.round(minor))).padStart(precision + 1, "0");
  if (precision === 0) return sign + digits;
  return `${sign}${digits.slice(0, -precision)}.${digits.slice(-precision)}`;
}

function iso(d: Date | string | undefined | null): string {
  if (!d) return new Date(0).toISOString();
  return (d instanceof Date ? d : new Date(d)).toISOString();
}

function nonEmpty(s: string | null | undefined): string | undefined {
  const t = s?.trim();
  return t ? t : undefined;
}

export interface MappingOptions {
  /** The ProductVariant custom field that holds the barcode (GTIN/EAN), if the shop has one. */
  barcodeField: string;
  moneyPrecision: number;
}

export function variantBarcode(variant: ProductVariant, field: string): string | null {
  const custom = (variant.customFields ?? {}) as Record<string, unknown>;
  const v = custom[field];
  return typeof v === "string" && v.trim() ? v.trim() : null;
}

export function toErpOrder(order: Order, o: MappingOptions): ErpOrder {
  const addr = order.shippingAddress ?? {};
  const customer = order.customer;
  const customerName = [customer?.firstName, customer?.lastName].filter(Boolean).join(" ");
  const items: ErpOrderItem[] = (order.lines ?? [])
    .filter((line) => line.quantity > 0)
    .map((line) => {
      const barcode = line.productVariant ? variantBarcode(line.productVariant, o.barcodeField) : null;
      return {
        sku: line.productVariant?.sku ?? "",
        ...(barcode ? { barcode } : {}),
        ...(line.productVariant?.name ? { name: line.productVariant.name } : {}),
        quantity: line.quantity,
        // What the customer pays per unit, tax included (Vendure's unitPriceWithTax).
        unitPrice: minorToDecimal(line.unitPriceWithTax, o.moneyPrecision),
      };
    });
  const email = nonEmpty(customer?.emailAddress);
  const phone = nonEmpty(addr.phoneNumber) ?? nonEmpty(customer?.phoneNumber);
  const line2 = nonEmpty(addr.streetLine2);
  const state = nonEmpty(addr.province);
  return {
    id: String(order.id),
    number: order.code,
    status: order.state,
    shipByDate: null,
    customer: {
      name: nonEmpty(addr.fullName) ?? (customerName || email || order.code),
      ...(email ? { email } : {}),
      ...(phone ? { phone } : {}),
    },
    shippingAddress: {
      line1: addr.streetLine1 ?? "",
      ...(line2 ? { line2 } : {}),
      city: addr.city ?? "",
      ...(state ? { state } : {}),
      postalCode: addr.postalCode ?? "",
      country: (addr.countryCode ?? "").toUpperCase(),
    },
    items,
    currency: order.currencyCode,
    createdAt: iso(order.orderPlacedAt ?? order.createdAt),
    updatedAt: iso(order.updatedAt),
  };
}

export function toErpProduct(variant: ProductVariant, o: MappingOptions): ErpProduct {
  const product = variant.product;
  const price = typeof variant.priceWithTax === "number" && !Number.isNaN(variant.priceWithTax) ? variant.priceWithTax : variant.price;
  return {
    id: String(variant.id),
    sku: variant.sku,
    barcode: variantBarcode(variant, o.barcodeField),
    name: variant.name || product?.name || variant.sku,
    category: null,
    weightKg: null,
    price: typeof price === "number" && !Number.isNaN(price) ? minorToDecimal(price, o.moneyPrecision) : null,
    active: Boolean(variant.enabled && !variant.deletedAt && (product ? product.enabled && !product.deletedAt : true)),
    updatedAt: iso(variant.updatedAt),
  };
}
