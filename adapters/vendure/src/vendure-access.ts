// What the adapter needs from a booted Vendure, looked up once per process, plus the two
// kinds of RequestContext it works with: a plain admin one for reads, and one marked with
// the plugin's origin for writes, whose events are then tagged meta.origin (echo suppression).
import type { RequestContext, Type, VendureConfig } from "@vendure/core";
import {
  ConfigService,
  OrderService,
  ProductVariantService,
  RequestContextService,
  StockLevelService,
  StockLocationService,
  StockMovementService,
  TransactionalConnection,
} from "@vendure/core";
import type { Knex } from "knex";
import type { DbKind } from "./database";
import { vendureTable } from "./database";
import { markOrigin } from "./origin";

interface Getter {
  get<T>(token: Type<T>): T;
}

export interface VendureAccess {
  orders: OrderService;
  variants: ProductVariantService;
  stockMovements: StockMovementService;
  stockLevels: StockLevelService;
  stockLocations: StockLocationService;
  connection: TransactionalConnection;
  /** Our own knex on Vendure's database, for keyset paging over Vendure's tables. */
  db: Knex;
  kind: DbKind;
  table(name: string): string;
  /** TypeORM's `timezone` for MySQL connections (how it writes Dates). */
  timezone: string | undefined;
  moneyPrecision: number;
  barcodeField: string;
  pluginId: string;
  readCtx(): Promise<RequestContext>;
  /** Runs `work` in a Vendure transaction on a context marked as the plugin's own change. */
  write<T>(work: (ctx: RequestContext) => Promise<T>): Promise<T>;
}

export function vendureAccess(
  injector: Getter,
  o: { db: Knex; kind: DbKind; barcodeField: string; pluginId: string; dbOptions: VendureConfig["dbConnectionOptions"] },
): VendureAccess {
  const contexts = injector.get(RequestContextService);
  const connection = injector.get(TransactionalConnection);
  const config = injector.get(ConfigService);
  const precision = (config.entityOptions.moneyStrategy as { precision?: number } | undefined)?.precision ?? 2;
  return {
    orders: injector.get(OrderService),
    variants: injector.get(ProductVariantService),
    stockMovements: injector.get(StockMovementService),
    stockLevels: injector.get(StockLevelService),
    stockLocations: injector.get(StockLocationService),
    connection,
    db: o.db,
    kind: o.kind,
    table: (name) => vendureTable(o.dbOptions, name),
    timezone: (o.dbOptions as { timezone?: string }).timezone,
    moneyPrecision: precision,
    barcodeField: o.barcodeField,
    pluginId: o.pluginId,
    readCtx: () => contexts.create({ apiType: "admin" }),
    async write(work) {
      const ctx = markOrigin(await contexts.create({ apiType: "admin" }), o.pluginId);
      return connection.withTransaction(ctx, work);
    },
  };
}
