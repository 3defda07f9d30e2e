// Test data builders.
import type { NewOrderInput, NewProductInput } from "../../dev/host";

export function newOrder(i: number, over: Partial<NewOrderInput> = {}): NewOrderInput {
  return {
    number: `SO-T-${String(i).padStart(6, "0")}`,
    status: "awaiting_fulfillment",
    shipByDate: "2026-03-01",
    customer: { name: `Customer ${i}`, email: `c${i}@example.com` },
    shippingAddress: { line1: `Street ${i}`, city: "Buenos Aires", state: "CABA", postalCode: "C1000", country: "AR" },
    items: [
      { sku: `SKU-${i % 7}`, barcode: `779000${i % 7}`, quantity: 1 + (i % 3), unitPrice: "10.50" },
      { sku: `SKU-NB-${i % 5}`, quantity: 2, unitPrice: "3" },
    ],
    currency: "ARS",
    ...over,
  } as NewOrderInput;
}

export function newProduct(i: number, over: Partial<NewProductInput> = {}): NewProductInput {
  return {
    sku: `P-${String(i).padStart(6, "0")}`,
    barcode: `779${String(i).padStart(10, "0")}`,
    name: `Product ${i}`,
    category: "Mugs",
    price: "12.50",
    weightKg: 0.4,
    active: true,
    ...over,
  } as NewProductInput;
}
