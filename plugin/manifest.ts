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
    hooks: ["order.created", "order.updated", "order.cancelled"],
    migrations: { directory: "dist/migrations", tableName: "zenflow_migrations" },
    config: configJsonSchema(),
    actions: ACTIONS.map((a) => ({ ...a })),
    permissions: ["db", "http.public", "http.admin", "erp.orders.write", "erp.stock.write", "network"],
  };
}
