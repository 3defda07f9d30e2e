// Full stock sync (action `sync-stock`, the CLI, and a daily schedule):
//   stockSource = erp     → every ERP level is pushed to ZenFlow in bulk (ZenFlow drifts:
//                           the ERP is the authority)
//   stockSource = zenflow → GET /stock page by page (100 rows), and ctx.erp.stock.set only
//                           where the ERP differs; those writes carry our origin, so they
//                           never come back as stock changes to push
//   stockSource = none    → nothing
import type { Clock } from "../core/clock";
import { NotYetError } from "../core/errors";
import type { ZenflowConfig } from "../core/config";
import { ErpError, type ErpPort } from "../core/erp-port";
import type { Binder } from "../id-map/binder";
import { toErpLocation } from "../mapping/locations";
import type { EventLog } from "../outbox/event-log";
import { clearRequest, type Progress, writeProgress } from "../core/runs";
import type { KvStore } from "../core/kv-store";
import { Priority } from "../jobs/priorities";
import { stockJob } from "../jobs/stock-job";
import type { ZenflowClient } from "../zenflow/client";
import { pushStock, STOCK_ROWS_PER_REQUEST, type StockRow } from "./export-stock";

/** What the admin-started bulk runs (this and the catalog import) work with. */
export interface BulkRunDeps {
  erp: ErpPort;
  binder: Binder;
  client: ZenflowClient;
  state: KvStore;
  log: EventLog;
  clock: Clock;
  config: ZenflowConfig;
}

const NAME = "sync-stock";

export async function runStockSync(deps: BulkRunDeps, signal?: AbortSignal): Promise<Progress> {
  const { clock, state } = deps;
  const config = deps.config;
  const now = clock.now();
  const p: Progress = { status: "running", startedAt: now, updatedAt: now, done: 0, total: null, errors: 0, requests: 0, etaMs: null };
  await writeProgress(state, NAME, p);
  if (config.stockSource === "erp") await pushAll(deps, p, signal);
  else if (config.stockSource === "zenflow") await pullAll(deps, p, signal);
  p.status = signal?.aborted ? "paused" : "done";
  p.updatedAt = clock.now();
  p.message =
    config.stockSource === "none"
      ? "Stock is not synchronised (settings: who owns stock levels = none)"
      : `${p.done} stock levels compared, ${p.errors} with problems (${config.stockSource === "erp" ? "ERP → ZenFlow" : "ZenFlow → ERP"})`;
  await writeProgress(state, NAME, p);
  if (!signal?.aborted) await clearRequest(state, NAME);
  return p;
}

async function pushAll(deps: BulkRunDeps, p: Progress, signal?: AbortSignal): Promise<void> {
  let cursor: string | undefined;
  do {
    if (signal?.aborted) return;
    const page = await deps.erp.listStock({ cursor, limit: 1000 });
    for (let i = 0; i < page.items.length; i += STOCK_ROWS_PER_REQUEST) {
      const rows: StockRow[] = page.items
        .slice(i, i + STOCK_ROWS_PER_REQUEST)
        .map((s, k) => ({ key: `${i + k}`, sku: s.sku, erpLocation: s.locationId, quantity: s.quantity }));
      const results = await pushStock(deps, rows, Priority.reconcile);
      p.requests = (p.requests ?? 0) + 1;
      for (const r of results.values()) if (r.type === "failed" && !(r.error instanceof NotYetError)) throw r.error;
      // Rows ZenFlow rejected, or whose product it does not know yet, continue as ordinary jobs.
      const bad = rows.filter((r) => {
        const res = results.get(r.key);
        return res?.type === "dead" || res?.type === "failed";
      });
      // Rejected rows become ordinary stock jobs: visible dead letters, retryable.
      if (bad.length) await deps.log.appendMany(bad.map((r) => stockJob({ sku: r.sku, locationId: r.erpLocation, quantity: r.quantity })));
      p.errors += bad.length;
      p.done += rows.length;
    }
    p.updatedAt = deps.clock.now();
    await writeProgress(deps.state, NAME, p);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
}

async function pullAll(deps: BulkRunDeps, p: Progress, signal?: AbortSignal): Promise<void> {
  const config = deps.config;
  // The ERP's levels, to write only differences (one pass over ctx.erp.stock.list).
  const erpLevels = new Map<string, number>();
  let cursor: string | undefined;
  do {
    const page = await deps.erp.listStock({ cursor, limit: 1000 });
    for (const s of page.items) erpLevels.set(`${s.sku}@${s.locationId}`, s.quantity);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);

  for (let pageNo = 1; ; pageNo++) {
    if (signal?.aborted) return;
    const res = (await deps.client.stock.list({ page: pageNo, limit: 100 }, Priority.reconcile)).data;
    p.requests = (p.requests ?? 0) + 1;
    if (p.total === null && res.pagination.total !== undefined) p.total = res.pagination.total;
    for (const row of res.stock) {
      p.done++;
      if (!row.sku) continue;
      const location = toErpLocation(config, row.location_id);
      if (erpLevels.get(`${row.sku}@${location}`) === row.quantity) continue;
      if (row.quantity < 0) {
        p.errors++;
        continue;
      }
      try {
        await deps.erp.setStock({ sku: row.sku, locationId: location, quantity: row.quantity, reason: "ZenFlow stock reconciliation" });
      } catch (err) {
        // A SKU or location the ERP does not know: counted, the rest continues.
        if (!(err instanceof ErpError) || err.retryable) throw err;
        p.errors++;
      }
    }
    p.updatedAt = deps.clock.now();
    await writeProgress(deps.state, NAME, p);
    const pages = res.pagination.total_pages ?? (res.stock.length < 100 ? pageNo : pageNo + 1);
    if (pageNo >= pages || !res.stock.length) break;
  }
}
