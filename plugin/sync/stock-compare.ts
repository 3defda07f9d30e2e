// The one comparison of every stock level, ERP against ZenFlow, that both the drift report
// and the full stock sync use: the report lists exactly what the sync would write, because
// the sync writes exactly the rows this returns. It only reads (ctx.erp stock list, GET /stock
// through the limiter at the caller's priority, the plugin's own tables for the last changes).
//
// Rows are joined per (SKU, ZenFlow location): each ERP level under the ZenFlow location its
// ERP location maps to (locationMap / default location). A level missing on one side counts
// as differing; whether the sync writes it depends on who owns stock (see `direction`).
import type { Knex } from "knex";
import type { ZenflowConfig } from "../core/config";
import type { ErpPort } from "../core/erp-port";
import type { Binder } from "../id-map/binder";
import { entityKey, stockBindingId } from "../jobs/keys";
import type { PriorityValue } from "../jobs/priorities";
import { STOCK_KIND } from "../jobs/stock-job";
import { toErpLocation, toZenflowLocation } from "../mapping/locations";
import { Table } from "../core/tables";
import { num } from "../core/dialect";
import type { ZenflowClient } from "../zenflow/client";

export type StockDirection = "ERP → ZenFlow" | "ZenFlow → ERP";

export interface DriftRow {
  sku: string;
  /** The ERP location (for a ZenFlow-only level: the one the sync would write to). */
  erpLocation: string;
  /** The ZenFlow location_id. */
  location: string;
  /** null: the ERP has no level for this SKU here. */
  erpQuantity: number | null;
  /** null: ZenFlow has no level for this SKU here. */
  zenflowQuantity: number | null;
  /** ERP minus ZenFlow, a missing level counted as 0. */
  difference: number;
  /** The ERP's last stock change the plugin recorded (stock.changed, while the ERP owns stock). */
  erpChangedAt?: number;
  /** ZenFlow's time of the last level applied from it, else the plugin's last write to ZenFlow. */
  zenflowChangedAt?: number;
  /** Which way the full sync writes this row; null when it leaves it alone (`note` says why). */
  direction: StockDirection | null;
  note?: string;
}

export interface StockComparison {
  /** Distinct (SKU, location) levels seen on either side. */
  compared: number;
  /** Levels whose quantities differ (or that one side lacks), in ZenFlow's order, then the ERP-only ones. */
  differing: DriftRow[];
  /** ZenFlow rows without a SKU: they cannot be joined and are left out. */
  withoutSku: number;
  requests: number;
  /** The comparison was interrupted (shutdown): the rows are incomplete and must not be acted on. */
  aborted: boolean;
}

export interface StockCompareDeps {
  erp: ErpPort;
  client: ZenflowClient;
  binder: Binder;
  db: Knex;
  config: ZenflowConfig;
}

export interface CompareOptions {
  priority: PriorityValue;
  signal?: AbortSignal;
  /** After each ZenFlow page: rows read so far and ZenFlow's total when it says. */
  onPage?: (read: number, total: number | null, requests: number) => Promise<void>;
}

const ZENFLOW_PAGE = 100;
const ERP_PAGE = 1000;

export function directionOf(config: Pick<ZenflowConfig, "stockSource">): StockDirection | null {
  return config.stockSource === "erp" ? "ERP → ZenFlow" : config.stockSource === "zenflow" ? "ZenFlow → ERP" : null;
}

const joinKey = (sku: string, zenflowLocation: string) => JSON.stringify([sku, zenflowLocation]);

export async function compareStock(deps: StockCompareDeps, o: CompareOptions): Promise<StockComparison> {
  const { config } = deps;
  const out: StockComparison = { compared: 0, differing: [], withoutSku: 0, requests: 0, aborted: false };
  const erpLevels = new Map<string, { sku: string; erpLocation: string; quantity: number; seen: boolean }[]>();
  let cursor: string | undefined;
  do {
    if (o.signal?.aborted) return { ...out, aborted: true };
    const page = await deps.erp.listStock({ cursor, limit: ERP_PAGE });
    for (const s of page.items) {
      const key = joinKey(s.sku, toZenflowLocation(config, s.locationId));
      const list = erpLevels.get(key) ?? [];
      list.push({ sku: s.sku, erpLocation: s.locationId, quantity: s.quantity, seen: false });
      erpLevels.set(key, list);
    }
    cursor = page.nextCursor ?? undefined;
  } while (cursor);

  const seenZenflow = new Set<string>();
  let read = 0;
  for (let pageNo = 1; ; pageNo++) {
    if (o.signal?.aborted) return { ...out, aborted: true };
    const res = (await deps.client.stock.list({ page: pageNo, limit: ZENFLOW_PAGE }, o.priority)).data;
    out.requests++;
    const found: DriftRow[] = [];
    for (const row of res.stock) {
      read++;
      if (!row.sku) {
        out.withoutSku++;
        continue;
      }
      const key = joinKey(row.sku, row.location_id);
      // A level listed twice (pages shifting while we read) is compared once.
      if (seenZenflow.has(key)) continue;
      seenZenflow.add(key);
      const matches = erpLevels.get(key);
      if (!matches) {
        out.compared++;
        found.push(rowOf(config, row.sku, toErpLocation(config, row.location_id), row.location_id, null, row.quantity));
        continue;
      }
      for (const m of matches) {
        m.seen = true;
        out.compared++;
        if (m.quantity !== row.quantity) found.push(rowOf(config, row.sku, m.erpLocation, row.location_id, m.quantity, row.quantity));
      }
    }
    out.differing.push(...found);
    await o.onPage?.(read, res.pagination.total ?? null, out.requests);
    const pages = res.pagination.total_pages ?? (res.stock.length < ZENFLOW_PAGE ? pageNo : pageNo + 1);
    if (pageNo >= pages || !res.stock.length) break;
  }
  for (const [key, list] of erpLevels) {
    const location = (JSON.parse(key) as [string, string])[1];
    for (const m of list) {
      if (m.seen) continue;
      out.compared++;
      out.differing.push(rowOf(config, m.sku, m.erpLocation, location, m.quantity, null));
    }
  }
  await addLastChanges(deps, out.differing);
  return out;
}

function rowOf(
  config: Pick<ZenflowConfig, "stockSource">,
  sku: string,
  erpLocation: string,
  location: string,
  erpQuantity: number | null,
  zenflowQuantity: number | null,
): DriftRow {
  const row: DriftRow = {
    sku,
    erpLocation,
    location,
    erpQuantity,
    zenflowQuantity,
    difference: (erpQuantity ?? 0) - (zenflowQuantity ?? 0),
    direction: directionOf(config),
  };
  // The sync copies levels from the owning side only: a level the owner lacks is left alone.
  if (config.stockSource === "erp" && erpQuantity === null) {
    row.direction = null;
    row.note = "not in the ERP: left as it is in ZenFlow";
  } else if (config.stockSource === "zenflow" && zenflowQuantity === null) {
    row.direction = null;
    row.note = "not in ZenFlow: left as it is in the ERP";
  } else if (config.stockSource === "zenflow" && zenflowQuantity !== null && zenflowQuantity < 0) {
    row.direction = null;
    row.note = "ZenFlow's level is negative: not copied to the ERP";
  } else if (config.stockSource === "none") {
    row.note = "stock is not synchronised (who owns stock levels = none)";
  }
  return row;
}

/** Fills in the last change on each side from the plugin's own records (reads only). */
async function addLastChanges(deps: StockCompareDeps, rows: DriftRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 500) {
    const chunk = rows.slice(i, i + 500);
    const bindings = await deps.binder.toExternalMany(
      "stock",
      chunk.map((r) => stockBindingId(r.sku, r.erpLocation)),
    );
    const keys = chunk.map((r) => entityKey.stock(r.sku, r.erpLocation));
    const changes: { entity_key: string; at: unknown }[] = await deps
      .db(Table.outbox)
      .where({ kind: STOCK_KIND })
      .whereIn("entity_key", keys)
      .groupBy("entity_key")
      .select("entity_key")
      .max({ at: "updated_at" });
    const erpAt = new Map(changes.map((c) => [String(c.entity_key), num(c.at)]));
    chunk.forEach((r, k) => {
      const at = erpAt.get(keys[k]!);
      if (at) r.erpChangedAt = at;
      const b = bindings.get(stockBindingId(r.sku, r.erpLocation));
      const zf = b?.remoteUpdatedAt ?? b?.syncedAt;
      if (zf) r.zenflowChangedAt = zf;
    });
  }
}
