// Reconciliation of stock levels the ERP owns (stockSource = erp): a stock.changed event lost
// with a crashed process leaves ZenFlow with an old level. The ERP cannot list stock by
// change time, so this pass compares ERP levels with the last level ZenFlow accepted (the
// binder's stock rows) a bounded number of pages per run, resuming where the previous run
// stopped and starting over at the end: every level is compared within
// ceil(rows / (PAGES_PER_RUN × 1000)) runs, without the full sync's ZenFlow requests.
import type { ZenflowConfig } from "../core/config";
import type { ErpPort } from "../core/erp-port";
import { type KvStore, kvKey } from "../core/kv-store";
import type { Binder } from "../id-map/binder";
import { entityKey, stockBindingId } from "../jobs/keys";
import { stockJob } from "../jobs/stock-job";
import type { EventLog } from "../outbox/event-log";
import type { JobQueue } from "../outbox/queue";

const CURSOR_KEY = kvKey<{ cursor: string | null }>("reconcile:stock:cursor");
export const STOCK_PAGES_PER_RUN = 10;
const PAGE = 1000;

export interface ReconcileStockDeps {
  outbox: JobQueue;
  erp: ErpPort;
  binder: Binder;
  log: EventLog;
  state: KvStore;
  config: ZenflowConfig;
  onQueued?: () => void;
}

export async function reconcileStock(deps: ReconcileStockDeps, signal?: AbortSignal): Promise<{ scanned: number; queued: number }> {
  const { erp, binder, log, state, config } = deps;
  if (config.stockSource !== "erp") return { scanned: 0, queued: 0 };
  let cursor = (await state.get(CURSOR_KEY))?.cursor ?? undefined;
  let scanned = 0;
  let queued = 0;
  for (let pages = 0; pages < STOCK_PAGES_PER_RUN; pages++) {
    if (signal?.aborted) return { scanned, queued };
    const page = await erp.listStock({ cursor, limit: PAGE });
    scanned += page.items.length;
    const keyOf = (s: { sku: string; locationId: string }) => stockBindingId(s.sku, s.locationId);
    const pushed = await binder.toExternalMany("stock", page.items.map(keyOf));
    const keys = page.items.map((s) => entityKey.stock(s.sku, s.locationId));
    const live = await deps.outbox.liveKeys(keys);
    const dead = await deps.outbox.deadLetters(keys);
    // A level ZenFlow refused stays a dead letter for the admin; a different level is sent.
    const refused = (s: { quantity: number }, key: string) =>
      (dead.get(key)?.payload as { quantity?: unknown } | undefined)?.quantity === s.quantity;
    const jobs = page.items
      .filter((s, i) => !live.has(keys[i]!) && !refused(s, keys[i]!) && pushed.get(keyOf(s))?.payloadHash !== String(s.quantity))
      .map((s) => stockJob({ sku: s.sku, locationId: s.locationId, quantity: s.quantity }));
    await log.appendMany(jobs);
    queued += jobs.length;
    cursor = page.nextCursor ?? undefined;
    if (!cursor) break; // the end: the next run starts over
  }
  await state.set(CURSOR_KEY, { cursor: cursor ?? null });
  if (queued) deps.onQueued?.();
  return { scanned, queued };
}
