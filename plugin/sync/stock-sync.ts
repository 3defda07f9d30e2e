// Full stock sync (action `sync-stock`, the CLI, and a daily schedule): compares every level
// first (stock-compare, the same comparison as the drift report), then writes only the levels
// that differ, from the side that owns stock:
//   stockSource = erp     → the differing ERP levels go to ZenFlow in bulk (100 per request)
//   stockSource = zenflow → ctx.erp.stock.set for each differing ZenFlow level; those writes
//                           carry our origin, so they never come back as stock changes to push
//   stockSource = none    → nothing
// With the drift guard on (settings), a comparison over its limits writes nothing: the run
// stops, says why, and keeps the drift report, until the admin runs `sync-stock-anyway`.
import type { Knex } from "knex";
import type { Clock } from "../core/clock";
import { NotYetError } from "../core/errors";
import type { ZenflowConfig } from "../core/config";
import { ErpError, type ErpPort } from "../core/erp-port";
import type { Binder } from "../id-map/binder";
import type { EventLog } from "../outbox/event-log";
import { clearRequest, pendingRequest, type Progress, writeProgress } from "../core/runs";
import type { KvStore } from "../core/kv-store";
import { Priority } from "../jobs/priorities";
import { stockJob } from "../jobs/stock-job";
import type { ZenflowClient } from "../zenflow/client";
import { pushStock, STOCK_ROWS_PER_REQUEST, type StockRow } from "./export-stock";
import type { DriftRow } from "./stock-compare";
import { compareShowingProgress, DRIFT_REPORT_KEY, driftSummary, guardStop, toReport } from "./stock-drift";

/** What the admin-started bulk runs (this, the drift report and the catalog import) work with. */
export interface BulkRunDeps {
  erp: ErpPort;
  binder: Binder;
  client: ZenflowClient;
  state: KvStore;
  log: EventLog;
  clock: Clock;
  config: ZenflowConfig;
  /** Reads only: the last recorded change of each level, for the comparison. */
  db: Knex;
}

const NAME = "sync-stock";

export async function runStockSync(deps: BulkRunDeps, signal?: AbortSignal): Promise<Progress> {
  const { clock, state, config } = deps;
  const now = clock.now();
  const p: Progress = { status: "running", startedAt: now, updatedAt: now, done: 0, total: null, errors: 0, requests: 0, etaMs: null };
  await writeProgress(state, NAME, p);
  if (config.stockSource === "none") {
    return finish(deps, p, "done", "Stock is not synchronised (settings: who owns stock levels = none)");
  }
  // The override belongs to the request it came with: it holds for this run only.
  const ignoreGuard = !!(await pendingRequest(state, NAME))?.ignoreDriftGuard;
  const c = await compareShowingProgress(deps, NAME, p, Priority.reconcile, signal);
  if (c.aborted) return finish(deps, p, "paused");
  const report = toReport(c, config, clock.now(), "guard");
  const stop = ignoreGuard ? null : guardStop(config, report);
  if (stop) {
    await state.set(DRIFT_REPORT_KEY, report);
    return finish(deps, p, "stopped", stop);
  }
  const rows = c.differing.filter((r) => r.direction !== null);
  Object.assign(p, { done: 0, total: rows.length });
  const written = config.stockSource === "erp" ? await pushDiffering(deps, rows, p, signal) : await pullDiffering(deps, rows, p, signal);
  if (signal?.aborted) return finish(deps, p, "paused");
  const direction = config.stockSource === "erp" ? "ERP → ZenFlow" : "ZenFlow → ERP";
  const overridden = ignoreGuard ? "; drift guard overridden once" : "";
  return finish(deps, p, "done", `${driftSummary(report)}; ${written} written, ${p.errors} with problems (${direction})${overridden}`);
}

async function finish(deps: BulkRunDeps, p: Progress, status: Progress["status"], message?: string): Promise<Progress> {
  p.status = status;
  p.updatedAt = deps.clock.now();
  if (message) p.message = message;
  await writeProgress(deps.state, NAME, p);
  // A paused run resumes under its request; any other end consumes it (and its override).
  if (status !== "paused") await clearRequest(deps.state, NAME);
  return p;
}

async function pushDiffering(deps: BulkRunDeps, differing: DriftRow[], p: Progress, signal?: AbortSignal): Promise<number> {
  let written = 0;
  for (let i = 0; i < differing.length; i += STOCK_ROWS_PER_REQUEST) {
    if (signal?.aborted) return written;
    const rows: StockRow[] = differing
      .slice(i, i + STOCK_ROWS_PER_REQUEST)
      .map((r, k) => ({ key: `${i + k}`, sku: r.sku, erpLocation: r.erpLocation, quantity: r.erpQuantity ?? 0 }));
    const results = await pushStock(deps, rows, Priority.reconcile);
    p.requests = (p.requests ?? 0) + 1;
    for (const r of results.values()) if (r.type === "failed" && !(r.error instanceof NotYetError)) throw r.error;
    // Rows ZenFlow rejected, or whose product it does not know yet, continue as ordinary
    // stock jobs: visible dead letters, retryable.
    const bad = rows.filter((r) => {
      const res = results.get(r.key);
      return res?.type === "dead" || res?.type === "failed";
    });
    if (bad.length) await deps.log.appendMany(bad.map((r) => stockJob({ sku: r.sku, locationId: r.erpLocation, quantity: r.quantity })));
    p.errors += bad.length;
    written += rows.length - bad.length;
    p.done += rows.length;
    p.updatedAt = deps.clock.now();
    await writeProgress(deps.state, NAME, p);
  }
  return written;
}

async function pullDiffering(deps: BulkRunDeps, differing: DriftRow[], p: Progress, signal?: AbortSignal): Promise<number> {
  let written = 0;
  for (const row of differing) {
    if (signal?.aborted) return written;
    try {
      await deps.erp.setStock({
        sku: row.sku,
        locationId: row.erpLocation,
        quantity: row.zenflowQuantity ?? 0,
        reason: "ZenFlow stock reconciliation",
      });
      written++;
    } catch (err) {
      // A SKU or location the ERP does not know: counted, the rest continues.
      if (!(err instanceof ErpError) || err.retryable) throw err;
      p.errors++;
    }
    p.done++;
    if (p.done % 100 === 0 || p.done === differing.length) {
      p.updatedAt = deps.clock.now();
      await writeProgress(deps.state, NAME, p);
    }
  }
  return written;
}
