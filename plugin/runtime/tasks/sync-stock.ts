// Scheduled (cron) and admin-requested: the full stock comparison (sync/stock-sync) in the
// direction the settings say; nothing when stock is not synchronised.
import { clearRequest, pendingRequest } from "../../core/runs";
import { type BulkRunDeps, runStockSync } from "../../sync/stock-sync";
import type { ScheduledTask } from "../scheduler";

export const SYNC_STOCK_TASK = "sync-stock";

export function syncStockTask(deps: BulkRunDeps, onDone: () => void): ScheduledTask {
  return {
    name: SYNC_STOCK_TASK,
    every: () => ({ cron: deps.config.stockFullSyncCron }),
    runAtFirstStart: false,
    wanted: async () => !!(await pendingRequest(deps.state, SYNC_STOCK_TASK)),
    async run(signal) {
      if (deps.config.stockSource !== "none") await runStockSync(deps, signal);
      else await clearRequest(deps.state, SYNC_STOCK_TASK);
      onDone();
    },
  };
}
