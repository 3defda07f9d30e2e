// A plugin's own Knex migrations (compiled JavaScript), from the manifest's directory and
// migrations table.
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { Knex } from "knex";
import type { PluginManifest } from "../../plugin/core/host-api";
import { ManifestError } from "./manifest";
import { withMigrationLock } from "./migration-lock";

function migratorConfig(pluginDir: string, manifest: PluginManifest): Knex.MigratorConfig {
  const directory = resolve(pluginDir, manifest.migrations.directory);
  if (!existsSync(directory)) throw new ManifestError([`migrations.directory ${directory} does not exist`]);
  return { directory, tableName: manifest.migrations.tableName, loadExtensions: [".js"] };
}

/** Runs pending migrations; returns the names that ran. Waits for another process holding the lock. */
export async function migrateLatest(db: Knex, pluginDir: string, manifest: PluginManifest): Promise<string[]> {
  const config = migratorConfig(pluginDir, manifest);
  const [, ran] = (await withMigrationLock(db, manifest.migrations.tableName, () => db.migrate.latest(config))) as [number, string[]];
  return ran;
}

/**
 * Rolls back every migration, then drops knex's bookkeeping tables too, so that "uninstall
 * and drop data" leaves nothing of the plugin in the database.
 */
export async function rollbackAll(db: Knex, pluginDir: string, manifest: PluginManifest): Promise<string[]> {
  const config = migratorConfig(pluginDir, manifest);
  const [, undone] = (await withMigrationLock(db, manifest.migrations.tableName, () => db.migrate.rollback(config, true))) as [
    number,
    string[],
  ];
  await db.schema.dropTableIfExists(`${config.tableName}_lock`);
  await db.schema.dropTableIfExists(config.tableName as string);
  return undone;
}
