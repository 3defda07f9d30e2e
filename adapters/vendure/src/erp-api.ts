// ctx.erp: the contract's ERP API over Vendure's services.
import type { ErpApi } from "zenflow-erp-plugin/host-api";
import { vendureProducts, vendureStock } from "./erp-catalog";
import { vendureOrders, vendureStatuses } from "./erp-orders";
import type { VendureAccess } from "./vendure-access";

export function vendureErpApi(v: VendureAccess): ErpApi {
  return { orders: vendureOrders(v), products: vendureProducts(v), stock: vendureStock(v), statuses: vendureStatuses(v) };
}
