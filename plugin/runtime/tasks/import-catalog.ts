// Admin-requested: the catalog export (sync/export-catalog), run by one process at a time and
// resumed after a restart for as long as the request stands.
import { pendingRequest } from "../../core/runs";
import { runCatalogImport } from "../../sync/export-catalog";
import type { BulkRunDeps } from "../../sync/stock-sync";
import type { ScheduledTask } from "../scheduler";

export const IMPORT_CATALOG_TASK = "import-catalog";

export function importCatalogTask(deps: BulkRunDeps, onDone: () => void): ScheduledTask {
  return {
    name: IMPORT_CATALOG_TASK,
    every: () => ({ intervalMs: Number.POSITIVE_INFINITY }),
    runAtFirstStart: false,
    wanted: async () => !!(await pendingRequest(deps.state, IMPORT_CATALOG_TASK)),
    async run(signal) {
      await runCatalogImport(deps, signal);
      // Products the import could not send became jobs: the worker takes them now.
      onDone();
    },
  };
}
