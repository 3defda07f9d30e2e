// Scheduled: the reconciliation of ERP orders against what reached ZenFlow (sync/reconcile-orders),
// for changes whose ERP event was lost. It reads only the ERP and our tables.
import type { PluginLogger } from "../../core/host-api";
import { type ReconcileDeps, reconcileOrders } from "../../sync/reconcile-orders";
import type { ScheduledTask } from "../scheduler";

export const RECONCILE_ORDERS_TASK = "reconcile-orders";

export function reconcileOrdersTask(deps: ReconcileDeps & { logger: PluginLogger }): ScheduledTask {
  return {
    name: RECONCILE_ORDERS_TASK,
    every: () => ({ intervalMs: deps.config.reconcileIntervalMinutes * 60_000 }),
    async run(signal) {
      const r = await reconcileOrders(deps, signal);
      if (r.queued)
        deps.logger.warn({ scanned: r.scanned, queued: r.queued }, "reconciliation found ERP orders that had not reached ZenFlow");
    },
  };
}
