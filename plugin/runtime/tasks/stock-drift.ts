// Admin-requested: the stock drift report (sync/stock-drift), run by one process at a time;
// it writes nothing, so it needs no wake-up of the workers when it ends.
import { pendingRequest } from "../../core/runs";
import { runStockDrift } from "../../sync/stock-drift";
import type { BulkRunDeps } from "../../sync/stock-sync";
import type { ScheduledTask } from "../scheduler";

export const STOCK_DRIFT_TASK = "stock-drift";

export function stockDriftTask(deps: BulkRunDeps): ScheduledTask {
  return {
    name: STOCK_DRIFT_TASK,
    every: () => ({ intervalMs: Number.POSITIVE_INFINITY }),
    runAtFirstStart: false,
    wanted: async () => !!(await pendingRequest(deps.state, STOCK_DRIFT_TASK)),
    async run(signal) {
      await runStockDrift(deps, signal);
    },
  };
}
