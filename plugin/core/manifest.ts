// manifest.json, as data. scripts/gen-manifest.ts writes it; a test fails if the file
// on disk differs, so the config screen can never drift from the zod schema.
import { configJsonSchema } from "./config";
import type { PluginManifest } from "./host-api";

export const ACTIONS = [
  {
    id: "test-connection",
    label: "Test connection",
    description: "Checks the API key against ZenFlow with one request and says exactly what is wrong.",
  },
  {
    id: "retry-dead-letters",
    label: "Retry dead letters",
    description:
      "Sends every change that ZenFlow refused or that failed too often once more. Fix the cause first (see the ZenFlow dashboard).",
  },
  {
    id: "import-catalog",
    label: "Import catalog",
    description:
      "Sends every ERP product to ZenFlow in bulk (only what ZenFlow does not already have). Resumes after a restart; orders keep priority.",
  },
  {
    id: "sync-stock",
    label: "Sync all stock now",
    description: "Compares every stock level now instead of waiting for the daily run (direction per 'Who owns stock levels').",
  },
  {
    id: "stock-drift",
    label: "Stock drift report",
    description:
      "Lists every stock level that differs between the ERP and ZenFlow, and which way the full sync would write it, without changing anything. See it on the ZenFlow dashboard (Stock drift) or with `zenflow-erp stock-drift`.",
  },
  {
    id: "sync-stock-anyway",
    label: "Sync stock anyway",
    description:
      "Runs the full stock sync once even though the drift guard stopped it. Review the drift report first: the owning side's levels overwrite the other's.",
  },
] as const;

export function buildManifest(version: string): PluginManifest {
  return {
    id: "zenflow",
    name: "ZenFlow warehouse sync",
    description: "Sends ERP orders, products and stock to the ZenFlow warehouse and brings picking, packing, shipping and stock back.",
    version,
    author: "ZenFlow plugin team",
    license: "MIT",
    main: "dist/plugin/entry.js",
    erpApi: "^1.0.0",
    hooks: ["order.created", "order.updated", "order.cancelled", "product.created", "product.updated", "product.deleted", "stock.changed"],
    migrations: { directory: "dist/migrations", tableName: "zenflow_migrations" },
    config: configJsonSchema(),
    actions: ACTIONS.map((a) => ({ ...a })),
    permissions: ["db", "http.public", "http.admin", "erp.orders.write", "erp.stock.write", "network"],
  };
}
