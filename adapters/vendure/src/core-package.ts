// The ZenFlow plugin as an installed package: its manifest, the folder its migrations live
// in, and the plugin object its entry exports. Loaded by package name only (architecture:
// adapters import the plugin through its package entry and contract types).
import { dirname, resolve } from "node:path";
import type { ErpPlugin, PluginManifest } from "zenflow-erp-plugin/host-api";

export const CORE_PACKAGE = "zenflow-erp-plugin";

export interface CorePackage {
  manifest: PluginManifest;
  /** Absolute path of the manifest's migrations directory. */
  migrationsDir: string;
  /** The default plugin object (one per process, tuned by ZENFLOW_TUNING). */
  plugin: ErpPlugin;
}

export function loadCorePackage(): CorePackage {
  const manifestPath = require.resolve(`${CORE_PACKAGE}/manifest.json`);
  const manifest = require(manifestPath) as PluginManifest;
  const plugin = require(CORE_PACKAGE) as ErpPlugin;
  return { manifest, migrationsDir: resolve(dirname(manifestPath), manifest.migrations.directory), plugin };
}
