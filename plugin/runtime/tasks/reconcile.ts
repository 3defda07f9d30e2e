// Scheduled: the reconciliations of ERP orders, products and stock levels against what reached
// ZenFlow (sync/reconcile-*), for changes whose ERP event was lost (a crash between the ERP's
// commit and the handler, events while the plugin was stopped). They read only the ERP and
// our tables, so they run at every start (one process, through the lease) and then every
// minute by default: after a crash the lost orders go out within seconds, not at the next
// interval.
import type { PluginLogger } from "../../core/host-api";
import { type ReconcileDeps, reconcileOrders } from "../../sync/reconcile-orders";
import { reconcileProducts } from "../../sync/reconcile-products";
import { reconcileStock } from "../../sync/reconcile-stock";
import type { ScheduledTask } from "../scheduler";

export const RECONCILE_ORDERS_TASK = "reconcile-orders";
export const RECONCILE_PRODUCTS_TASK = "reconcile-products";
export const RECONCILE_STOCK_TASK = "reconcile-stock";

type Deps = ReconcileDeps & { logger: PluginLogger };

function reconcileTask(
  name: string,
  deps: Deps,
  run: (signal: AbortSignal) => Promise<{ scanned: number; queued: number }>,
  what: string,
): ScheduledTask {
  return {
    name,
    every: () => ({ intervalMs: deps.config.reconcileIntervalMinutes * 60_000 }),
    runAtStart: true,
    async run(signal) {
      const r = await run(signal);
      if (r.queued) deps.logger.warn({ scanned: r.scanned, queued: r.queued }, `reconciliation found ${what} that had not reached ZenFlow`);
    },
  };
}

export function reconcileTasks(deps: Deps): ScheduledTask[] {
  return [
    reconcileTask(RECONCILE_ORDERS_TASK, deps, (s) => reconcileOrders(deps, s), "ERP orders"),
    reconcileTask(RECONCILE_PRODUCTS_TASK, deps, (s) => reconcileProducts(deps, s), "product changes"),
    reconcileTask(RECONCILE_STOCK_TASK, deps, (s) => reconcileStock(deps, s), "stock levels"),
  ];
}
