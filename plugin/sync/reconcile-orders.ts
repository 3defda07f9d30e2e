// Reconciliation: ERP events are lost if a process dies between the ERP's commit and the
// handler. This pass walks ERP orders changed since its last run and queues every eligible
// order that never reached ZenFlow, every order whose ship-by date, customer or address
// differ from what ZenFlow last accepted, and every cancelled order ZenFlow was not told about.
// It reads only the ERP and our tables: it spends no ZenFlow budget itself.
import type { Clock } from "../core/clock";
import { type ZenflowConfig, erpCancelledStatus } from "../core/config";
import type { ErpPort } from "../core/erp-port";
import type { Binder } from "../id-map/binder";
import type { EventLog } from "../outbox/event-log";
import { type KvStore, kvKey } from "../core/kv-store";
import type { ErpOrder } from "../core/host-api";
import { toZenflowOrder } from "../mapping/to-zenflow-order";
import { entityKey } from "../jobs/keys";
import { orderJob } from "../jobs/order-job";
import { SinceCursor, unchangedSince } from "./since-cursor";
import type { JobQueue } from "../outbox/queue";

const CURSOR_KEY = kvKey<string>("reconcile:orders:since");

export interface ReconcileDeps {
  outbox: JobQueue;
  erp: ErpPort;
  binder: Binder;
  log: EventLog;
  state: KvStore;
  clock: Clock;
  config: ZenflowConfig;
  onQueued?: () => void;
}

export interface ReconcileResult {
  scanned: number;
  queued: number;
  since: string;
}

export async function reconcileOrders(deps: ReconcileDeps, signal?: AbortSignal): Promise<ReconcileResult> {
  const { erp, binder, log, state, clock } = deps;
  const config = deps.config;
  const cancelled = erpCancelledStatus(config);
  const mark = await SinceCursor.open(state, CURSOR_KEY, clock.now(), config.reconcileLookbackHours * 3_600_000);
  let cursor: string | undefined;
  let scanned = 0;
  let queued = 0;
  do {
    if (signal?.aborted) break;
    const page = await erp.listOrders({ updatedSince: mark.since, status: [...config.eligibleStatuses, cancelled], cursor, limit: 500 });
    scanned += page.items.length;
    const bindings = await binder.toExternalMany(
      "order",
      page.items.map((o) => o.id),
    );
    // Orders with a job already waiting or running are on their way: leave them to it.
    const keys = page.items.map((o) => entityKey.order(o.id));
    const live = await deps.outbox.liveKeys(keys);
    const dead = await deps.outbox.deadLetters(keys);
    const jobs = [];
    for (const order of page.items) {
      mark.see(order.updatedAt);
      const b = bindings.get(order.id);
      const missing =
        order.status === cancelled
          ? !!b && b.remoteState !== "Cancelled" && b.remoteState !== "Completed"
          : !b?.zenflowId || headerDiffers(order, b.payloadHash);
      const key = entityKey.order(order.id);
      // A dead letter is the admin's to fix; a change to the order after it died is sent.
      if (!missing || live.has(key) || unchangedSince(order.updatedAt, dead.get(key)?.diedAt)) continue;
      // Routed like any ERP event: it merges with a live job if there is one.
      jobs.push(order.status === cancelled ? orderJob(order, {}) : orderJob(order));
    }
    await log.appendMany(jobs);
    queued += jobs.length;
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  if (!signal?.aborted) await state.set(CURSOR_KEY, mark.next());
  if (queued) deps.onQueued?.();
  return { scanned, queued, since: mark.since };
}

/** An edit that never reached ZenFlow: the header hash differs from the one ZenFlow accepted. */
function headerDiffers(order: ErpOrder, acceptedHash: string | null): boolean {
  try {
    return toZenflowOrder(order).headerHash !== acceptedHash;
  } catch {
    return false; // a bad order is a dead letter already; re-queueing it would change nothing
  }
}
