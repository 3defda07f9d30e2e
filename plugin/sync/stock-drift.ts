// The stock drift report (action `stock-drift`, the CLI, the dashboard's Stock drift page):
// the full sync's own comparison (stock-compare), run as a run with progress, reading ZenFlow
// at the lowest priority, and stored without writing anything to the ERP or ZenFlow. Only the
// latest report is kept, with at most MAX_REPORT_ROWS rows (it says when it has more).
import type { ZenflowConfig } from "../core/config";
import type { Clock } from "../core/clock";
import { type KvStore, kvKey } from "../core/kv-store";
import { clearRequest, type Progress, type RunName, writeProgress } from "../core/runs";
import { Priority, type PriorityValue } from "../jobs/priorities";
import { compareStock, type DriftRow, type StockCompareDeps, type StockComparison } from "./stock-compare";

export const MAX_REPORT_ROWS = 10_000;
const NAME = "stock-drift";

export interface DriftReport {
  generatedAt: number;
  stockSource: ZenflowConfig["stockSource"];
  /** What made it: the admin's report, or a full sync the drift guard stopped. */
  trigger: "report" | "guard";
  compared: number;
  differing: number;
  /** Of the differing levels, those the full sync would write. */
  toWrite: number;
  /** Differing share of the compared levels, in percent. */
  sharePercent: number;
  withoutSku: number;
  requests: number;
  /** The stored rows stop at MAX_REPORT_ROWS; `differing` is the true count. */
  truncated: boolean;
  rows: DriftRow[];
}

export const DRIFT_REPORT_KEY = kvKey<DriftReport>("report:stock-drift");

export function toReport(
  c: StockComparison,
  config: Pick<ZenflowConfig, "stockSource">,
  now: number,
  trigger: DriftReport["trigger"],
): DriftReport {
  return {
    generatedAt: now,
    stockSource: config.stockSource,
    trigger,
    compared: c.compared,
    differing: c.differing.length,
    toWrite: c.differing.filter((r) => r.direction !== null).length,
    sharePercent: c.compared ? (c.differing.length / c.compared) * 100 : 0,
    withoutSku: c.withoutSku,
    requests: c.requests,
    truncated: c.differing.length > MAX_REPORT_ROWS,
    rows: c.differing.slice(0, MAX_REPORT_ROWS),
  };
}

export async function readDriftReport(state: KvStore): Promise<DriftReport | null> {
  return state.get(DRIFT_REPORT_KEY);
}

/** "412 of 3,000 levels differ (13.7%)" */
export function driftSummary(r: Pick<DriftReport, "compared" | "differing" | "sharePercent">): string {
  const n = (v: number) => v.toLocaleString("en-US");
  return `${n(r.differing)} of ${n(r.compared)} level${r.compared === 1 ? "" : "s"} differ${r.differing === 1 ? "s" : ""} (${percent(r.sharePercent)})`;
}

export function percent(v: number): string {
  return `${Number(v.toFixed(1)).toLocaleString("en-US")}%`;
}

/** Why the drift guard stops a full sync with this comparison, or null when it may write. */
export function guardStop(config: ZenflowConfig, r: Pick<DriftReport, "compared" | "differing" | "sharePercent">): string | null {
  if (!config.stockSyncDriftGuard) return null;
  const overCount = r.differing > config.stockSyncDriftMaxLevels;
  const overShare = r.sharePercent > config.stockSyncDriftMaxPercent;
  if (!overCount && !overShare) return null;
  const limit = overShare
    ? `> ${percent(config.stockSyncDriftMaxPercent)}`
    : `> ${config.stockSyncDriftMaxLevels.toLocaleString("en-US")} allowed`;
  return `stopped: ${driftSummary(r)} ${limit}: review the drift report, then run 'sync-stock-anyway'`;
}

/** The comparison, its reading of ZenFlow shown as the run's progress (rows read of ZenFlow's total). */
export function compareShowingProgress(
  deps: StockCompareDeps & { state: KvStore; clock: Clock },
  name: RunName,
  p: Progress,
  priority: PriorityValue,
  signal?: AbortSignal,
): Promise<StockComparison> {
  return compareStock(deps, {
    priority,
    signal,
    onPage: async (read, total, requests) => {
      Object.assign(p, { done: read, total: total ?? p.total, requests, updatedAt: deps.clock.now() });
      await writeProgress(deps.state, name, p);
    },
  });
}

export async function runStockDrift(deps: StockCompareDeps & { state: KvStore; clock: Clock }, signal?: AbortSignal): Promise<Progress> {
  const { clock, state } = deps;
  const now = clock.now();
  const p: Progress = { status: "running", startedAt: now, updatedAt: now, done: 0, total: null, errors: 0, requests: 0, etaMs: null };
  await writeProgress(state, NAME, p);
  const c = await compareShowingProgress(deps, NAME, p, Priority.report, signal);
  if (c.aborted) {
    // An interrupted comparison is not a report; the request stands, so it starts over.
    Object.assign(p, { status: "paused", updatedAt: clock.now(), message: "Interrupted; it starts over when the plugin runs again." });
    await writeProgress(state, NAME, p);
    return p;
  }
  const report = toReport(c, deps.config, clock.now(), "report");
  await state.set(DRIFT_REPORT_KEY, report);
  Object.assign(p, {
    status: "done",
    updatedAt: clock.now(),
    message: `${driftSummary(report)}; nothing was written${report.truncated ? `; the report keeps the first ${MAX_REPORT_ROWS.toLocaleString("en-US")} rows` : ""}`,
  });
  await writeProgress(state, NAME, p);
  await clearRequest(state, NAME);
  return p;
}
