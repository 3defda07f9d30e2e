// Reconciliation of products: a product.* event lost with a crashed process (or held in
// memory during a database outage and lost with it) leaves ZenFlow with an old version.
// This pass walks ERP products changed since its last run (products.list with updatedSince)
// and queues every one ZenFlow does not have in its current version: active products whose
// mapped payload differs from what ZenFlow accepted, and deactivated ones ZenFlow still
// has active. It reads only the ERP and our tables. Its first run starts at the present:
// products that changed before the plugin was installed are the catalog import's job.
import { kvKey } from "../core/kv-store";
import { entityKey } from "../jobs/keys";
import { productJob } from "../jobs/product-job";
import { toZenflowProduct } from "../mapping/to-zenflow-product";
import type { ReconcileDeps } from "./reconcile-orders";
import { SinceCursor, unchangedSince } from "./since-cursor";

/** Exported for tests that stand for a catalog that existed before the plugin was installed. */
export const PRODUCTS_CURSOR_KEY = kvKey<string>("reconcile:products:since");
const CURSOR_KEY = PRODUCTS_CURSOR_KEY;

/** The same parts as the order reconciliation's. */
export type ReconcileProductsDeps = ReconcileDeps;

export async function reconcileProducts(
  deps: ReconcileProductsDeps,
  signal?: AbortSignal,
): Promise<{ scanned: number; queued: number; since: string }> {
  const { erp, binder, log, state, clock, config } = deps;
  const mark = await SinceCursor.open(state, CURSOR_KEY, clock.now(), 0);
  let cursor: string | undefined;
  let scanned = 0;
  let queued = 0;
  do {
    if (signal?.aborted) break;
    const page = await erp.listProducts({ updatedSince: mark.since, cursor, limit: 500 });
    scanned += page.items.length;
    const ids = page.items.map((p) => p.id);
    const bindings = await binder.toExternalMany("product", ids);
    const keys = ids.map((id) => entityKey.product(id));
    const live = await deps.outbox.liveKeys(keys);
    const dead = await deps.outbox.deadLetters(keys);
    const jobs = [];
    for (const product of page.items) {
      mark.see(product.updatedAt);
      const key = entityKey.product(product.id);
      if (live.has(key) || unchangedSince(product.updatedAt, dead.get(key)?.diedAt)) continue;
      const b = bindings.get(product.id);
      if (product.active === false) {
        // Deactivated: ZenFlow still has it active unless the soft delete went out (hash cleared).
        if (b?.payloadHash) jobs.push(productJob(product));
        continue;
      }
      let hash: string;
      try {
        hash = toZenflowProduct(product, config).hash;
      } catch {
        continue; // a product that cannot be mapped is a dead letter already; re-queueing changes nothing
      }
      if (b?.payloadHash !== hash) jobs.push(productJob(product));
    }
    await log.appendMany(jobs);
    queued += jobs.length;
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  if (!signal?.aborted) await state.set(CURSOR_KEY, mark.next());
  if (queued) deps.onQueued?.();
  return { scanned, queued, since: mark.since };
}
