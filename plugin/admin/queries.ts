// Read-only questions the dashboard, the metrics and the command line ask the plugin's
// tables. Each query stays on an index: these run against the ERP's live database.
import type { Knex } from "knex";
import { type BudgetSnapshot, budgetSnapshot } from "../budget/shared-budget";
import { num, numOrNull } from "../core/dialect";
import type { ErpPort } from "../core/erp-port";
import { type Progress, type RunName, type RunRequest, pendingRequest, readProgress } from "../core/runs";
import type { KvStore } from "../core/kv-store";
import { QUEUE_TABLES, type QueueName } from "../outbox/admin-ops";
import { entityKey } from "../jobs/keys";
import { Table } from "../core/tables";
import { clip } from "../core/text";
import { BINDER_ID_MAX } from "../id-map/binder";

type Row = Record<string, unknown>;

export interface DeadLetter {
  queue: QueueName;
  id: number;
  kind: string;
  entityKey: string | null;
  erpRef: string | null;
  attempts: number;
  lastError: string | null;
  lastErrorCode: string | null;
  failedAt: number | null;
  createdAt: number;
}

/** Newest dead letters of both queues. */
export async function listDeadLetters(db: Knex, limit = 100): Promise<DeadLetter[]> {
  const out: DeadLetter[] = [];
  for (const queue of ["outbox", "inbox"] as const) {
    // Only what the page shows: an inbox row's payload can be 1 MB, and this reads up to `limit` of them.
    const columns = ["id", "kind", "entity_key", "attempts", "last_error", "last_error_code", "finished_at", "created_at"];
    const rows: Row[] = await db(QUEUE_TABLES[queue])
      .where("status", "dead")
      .orderBy("id", "desc")
      .limit(limit)
      .select([...columns, ...(queue === "inbox" ? ["event", "event_id"] : ["erp_ref"])]);
    for (const r of rows) {
      out.push({
        queue,
        id: num(r.id),
        // Webhooks: the event name says more than the synchronizer kind, and the event id is
        // what replay-webhook takes.
        kind: String(queue === "inbox" ? (r.event ?? r.kind ?? "") : (r.kind ?? "")),
        entityKey: r.entity_key == null ? null : String(r.entity_key),
        erpRef: queue === "inbox" ? (r.event_id == null ? null : String(r.event_id)) : typeof r.erp_ref === "string" ? r.erp_ref : null,
        attempts: num(r.attempts),
        lastError: r.last_error == null ? null : String(r.last_error),
        lastErrorCode: r.last_error_code == null ? null : String(r.last_error_code),
        failedAt: numOrNull(r.finished_at),
        createdAt: num(r.created_at),
      });
    }
  }
  return out.sort((a, b) => (b.failedAt ?? b.createdAt) - (a.failedAt ?? a.createdAt)).slice(0, limit);
}

export interface HistoryItem {
  id: number;
  at: number;
  entityKey: string;
  erpRef: string | null;
  kind: string;
  outcome: string;
  message: string | null;
  zenflowId: string | null;
  jobId: number | null;
}

function toHistoryItem(r: Row): HistoryItem {
  return {
    id: num(r.id),
    at: num(r.at),
    entityKey: String(r.entity_key),
    erpRef: r.erp_ref == null ? null : String(r.erp_ref),
    kind: String(r.kind),
    outcome: String(r.outcome),
    message: r.message == null ? null : String(r.message),
    zenflowId: r.zenflow_id == null ? null : String(r.zenflow_id),
    jobId: numOrNull(r.job_id),
  };
}

export interface FailureItem extends HistoryItem {
  /** A later history entry for the same entity succeeded. */
  resolved: boolean;
}

const FAILURE_OUTCOMES = ["retry", "dead", "refused"];
const SUCCESS_OUTCOMES = ["sent", "noop", "applied"];

/** Newest failures first; one query per outcome so each reads the (outcome, at) index in order. */
export async function recentFailures(db: Knex, limit = 20): Promise<FailureItem[]> {
  const rows: Row[] = [];
  for (const outcome of FAILURE_OUTCOMES) {
    rows.push(...(await db(Table.history).where({ outcome }).orderBy("at", "desc").orderBy("id", "desc").limit(limit)));
  }
  const items = rows
    .map(toHistoryItem)
    .sort((a, b) => b.at - a.at || b.id - a.id)
    .slice(0, limit);
  const keys = [...new Set(items.map((i) => i.entityKey))];
  const laterSuccess = new Map<string, number>();
  if (keys.length) {
    const ok: Row[] = await db(Table.history)
      .whereIn("entity_key", keys)
      .whereIn("outcome", SUCCESS_OUTCOMES)
      .groupBy("entity_key")
      .select("entity_key")
      .max({ last: "id" });
    for (const r of ok) laterSuccess.set(String(r.entity_key), num(r.last));
  }
  return items.map((i) => ({ ...i, resolved: (laterSuccess.get(i.entityKey) ?? 0) > i.id }));
}

export interface RunInfo {
  name: RunName;
  label: string;
  progress: Progress | null;
  request: RunRequest | null;
}

export const RUN_LABELS: Partial<Record<RunName, string>> = {
  "import-catalog": "Catalog import",
  "sync-stock": "Stock sync",
  "stock-drift": "Stock drift report",
};

/** Admin-requested runs that have progress or a pending request (nothing when none ever ran). */
export async function readRuns(state: KvStore): Promise<RunInfo[]> {
  const out: RunInfo[] = [];
  for (const [name, label] of Object.entries(RUN_LABELS) as [RunName, string][]) {
    const [progress, request] = await Promise.all([readProgress(state, name), pendingRequest(state, name)]);
    if (progress || request) out.push({ name, label, progress, request });
  }
  return out;
}

/** Percent done, or null when the total is not known yet. */
export function percentOf(p: Pick<Progress, "done" | "total" | "status">): number | null {
  if (p.status === "done") return 100;
  if (!p.total || p.total <= 0) return null;
  return Math.max(0, Math.min(100, Math.floor((p.done / p.total) * 100)));
}

export interface MappingItem {
  entityType: string;
  erpId: string;
  zenflowId: string | null;
  erpRef: string | null;
  barcode: string | null;
  remoteState: string | null;
  syncedAt: number | null;
}

export interface JobItem {
  id: number;
  kind: string;
  status: string;
  attempts: number;
  runAt: number;
  lastError: string | null;
  updatedAt: number;
}

export interface LookupResult {
  query: string;
  erp: { type: "order" | "product"; id: string; label: string; status: string | null }[];
  mappings: MappingItem[];
  jobs: JobItem[];
  history: HistoryItem[];
}

/** Everything known about one ERP order number or SKU (also a barcode or a ZenFlow id). */
export async function lookup(db: Knex, erp: ErpPort | null, query: string): Promise<LookupResult> {
  const q = clip(query.trim(), BINDER_ID_MAX);
  const result: LookupResult = { query: q, erp: [], mappings: [], jobs: [], history: [] };
  if (!q) return result;
  const types = ["order", "product"];
  const mapRows = new Map<number, Row>();
  for (const column of ["erp_ref", "barcode", "zenflow_id"]) {
    // (entity_type, column) is indexed for each of these.
    const rows: Row[] = await db(Table.idMap).whereIn("entity_type", types).andWhere(column, q).limit(20);
    for (const r of rows) mapRows.set(num(r.id), r);
  }
  result.mappings = [...mapRows.values()].map((r) => ({
    entityType: String(r.entity_type),
    erpId: String(r.erp_id),
    zenflowId: r.zenflow_id == null ? null : String(r.zenflow_id),
    erpRef: r.erp_ref == null ? null : String(r.erp_ref),
    barcode: r.barcode == null ? null : String(r.barcode),
    remoteState: r.remote_state == null ? null : String(r.remote_state),
    syncedAt: numOrNull(r.synced_at),
  }));
  const keys = new Set(result.mappings.map((m) => `${m.entityType}:${m.erpId}`));
  if (erp) {
    // The ERP knows orders that never reached ZenFlow (and so have no mapping yet).
    const [order, product] = await Promise.all([erp.findOrderByNumber(q).catch(() => null), erp.findProductBySku(q).catch(() => null)]);
    if (order) {
      result.erp.push({ type: "order", id: order.id, label: order.number, status: order.status });
      keys.add(entityKey.order(order.id));
    }
    if (product) {
      result.erp.push({ type: "product", id: product.id, label: product.sku, status: product.active ? "active" : "inactive" });
      keys.add(entityKey.product(product.id));
    }
  }
  const keyList = [...keys];
  if (keyList.length) {
    const jobs: Row[] = await db(Table.outbox)
      .whereIn("entity_key", keyList)
      .orderBy("id", "desc")
      .limit(20)
      .select("id", "kind", "status", "attempts", "run_at", "last_error", "updated_at");
    result.jobs = jobs.map((r) => ({
      id: num(r.id),
      kind: String(r.kind),
      status: String(r.status),
      attempts: num(r.attempts),
      runAt: num(r.run_at),
      lastError: r.last_error == null ? null : String(r.last_error),
      updatedAt: num(r.updated_at),
    }));
  }
  const hist = new Map<number, Row>();
  for (const r of (await db(Table.history).where("erp_ref", q).orderBy("at", "desc").limit(50)) as Row[]) hist.set(num(r.id), r);
  if (keyList.length) {
    const rows: Row[] = await db(Table.history).whereIn("entity_key", keyList).orderBy("at", "desc").limit(50);
    for (const r of rows) hist.set(num(r.id), r);
  }
  result.history = [...hist.values()]
    .map(toHistoryItem)
    .sort((a, b) => b.at - a.at || b.id - a.id)
    .slice(0, 50);
  return result;
}

/** Oldest change not yet sent to ZenFlow (waiting in the outbox or not routed yet), epoch ms. */
export async function oldestUnsentAt(db: Knex): Promise<number | null> {
  const a = (await db(Table.outbox).where("status", "pending").min({ oldest: "created_at" }).first()) as Row | undefined;
  const b = (await db(Table.eventLog).min({ oldest: "received_at" }).first()) as Row | undefined;
  const values = [numOrNull(a?.oldest), numOrNull(b?.oldest)].filter((v): v is number => v !== null && v > 0);
  return values.length ? Math.min(...values) : null;
}

/** API key scopes ZenFlow said are missing, from the errors of waiting jobs. */
export async function missingScopes(db: Knex): Promise<string[]> {
  const rows: Row[] = await db(Table.outbox)
    .distinct("last_error")
    .where({ status: "pending", last_error_code: "insufficient_scope" })
    .limit(10);
  const scopes = new Set<string>();
  for (const r of rows) {
    const m = /scope\s+([\w:]+)/.exec(String(r.last_error ?? ""));
    if (m?.[1]) scopes.add(m[1]);
  }
  return [...scopes];
}

/**
 * The budget row most recently used, for readers without the API key (the command line):
 * the row's id is a hash of the key. The limits live in the plugin's settings, which only
 * the host can read, so they are unknown here (Infinity: never "used up").
 */
export async function latestBudget(db: Knex, now: number): Promise<BudgetSnapshot | null> {
  const row: Row | undefined = await db(Table.budget).orderBy("updated_at", "desc").first();
  if (!row) return null;
  // The limits are the host's settings; the running plugin publishes them per key (engine.start).
  const published: Row | undefined = await db(Table.state)
    .where({ key: `budget:limits:${String(row.key_id)}` })
    .first();
  let limits = { perMinute: Infinity, perHour: Infinity, perDay: Infinity };
  try {
    if (published) limits = { ...limits, ...(JSON.parse(String(published.value)) as typeof limits) };
  } catch {
    /* keep unknown limits */
  }
  return budgetSnapshot(row, limits, now);
}
