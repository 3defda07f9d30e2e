// Conversions between erp_ table rows and the contract's records. JSON columns are stored as
// text so that the same schema works on SQLite and MariaDB.
import type { ErpOrder, ErpProduct } from "../../../plugin/core/host-api";

export interface OrderRow {
  id: string;
  number: string;
  status: string;
  ship_by_date: string | null;
  customer: string;
  shipping_address: string;
  items: string;
  currency: string;
  notes: string | null;
  shipped_at: string | null;
  tracking_number: string | null;
  carrier: string | null;
  updated_origin: string | null;
  created_at: string;
  updated_at: string;
}

export interface ProductRow {
  id: string;
  sku: string;
  barcode: string | null;
  name: string;
  category: string | null;
  weight_kg: number | string | null;
  price: string | null;
  active: number | boolean;
  updated_origin: string | null;
  updated_at: string;
}

export interface StockRow {
  sku: string;
  location_id: string;
  quantity: number | string;
  updated_at: string;
}

export interface Shipment {
  shippedAt: string;
  trackingNumber: string | null;
  carrier: string | null;
}

export function orderFromRow(r: OrderRow): ErpOrder {
  const order: ErpOrder = {
    id: r.id,
    number: r.number,
    status: r.status,
    shipByDate: r.ship_by_date,
    customer: JSON.parse(r.customer) as ErpOrder["customer"],
    shippingAddress: JSON.parse(r.shipping_address) as ErpOrder["shippingAddress"],
    items: JSON.parse(r.items) as ErpOrder["items"],
    currency: r.currency,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
  if (r.notes !== null) order.notes = r.notes;
  return order;
}

export function shipmentFromRow(r: OrderRow): Shipment | null {
  return r.shipped_at === null ? null : { shippedAt: r.shipped_at, trackingNumber: r.tracking_number, carrier: r.carrier };
}

export function productFromRow(r: ProductRow): ErpProduct {
  return {
    id: r.id,
    sku: r.sku,
    barcode: r.barcode,
    name: r.name,
    category: r.category,
    weightKg: r.weight_kg === null ? null : Number(r.weight_kg),
    price: r.price,
    active: r.active === true || Number(r.active) === 1,
    updatedAt: r.updated_at,
  };
}

export function stockFromRow(r: StockRow): { sku: string; locationId: string; quantity: number } {
  return { sku: r.sku, locationId: r.location_id, quantity: Number(r.quantity) };
}
