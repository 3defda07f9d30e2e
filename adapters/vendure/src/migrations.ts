// The plugin's Knex migrations (manifest `migrations`), run on bootstrap by every Vendure
// process that starts, so several starting together must not trip over each other.
//
// knex's own lock is a one-row table created check-then-insert: two processes starting at
// once can both insert a row and then knex reports "already locked" for ever; and on MariaDB
// a process that dies mid-migration leaves the lock set (DDL commits implicitly). So:
//   - we create the lock table and its single row (fixed primary key) race-free ourselves;
//   - on MariaDB, migrators are serialised by a server-side GET_LOCK held on a dedicated
//     connection (the server releases it if the process dies); holding it, any knex lock we
//     find set is stale and is cleared;
//   - transient errors (SQLITE_BUSY, racing CREATE TABLE of knex's tables, deadlocks) are
//     retried until a deadline.
import { createHash } from "node:crypto";
import type { Knex } from "knex";
import type { DbKind } from "./database";

const LOCK_WAIT_MS = 60_000;

function isTransient(err: unknown, tableName: string): boolean {
  const msg = err instanceof Error ? err.message : String(err);
  // "already exists" only counts for knex's bookkeeping tables, never for a plugin table.
  return (
    /already locked/i.test(msg) ||
    (msg.includes(tableName) && /already exists|Duplicate entry|UNIQUE constraint failed/i.test(msg)) ||
    /SQLITE_BUSY|database is locked|Deadlock/i.test(msg)
  );
}

async function retrying<T>(tableName: string, deadline: number, step: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await step();
    } catch (err) {
      if (!isTransient(err, tableName) || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, Math.min(50 * 2 ** attempt, 500) + Math.random() * 50));
    }
  }
}

async function ensureLockRow(db: Knex, lockTable: string): Promise<void> {
  if (!(await db.schema.hasTable(lockTable))) {
    await db.schema.createTable(lockTable, (t) => {
      t.increments("index").primary();
      t.integer("is_locked");
    });
  }
  const [row] = (await db(lockTable).count({ n: "*" })) as { n: number | string }[];
  if (Number(row?.n ?? 0) === 0) await db(lockTable).insert({ index: 1, is_locked: 0 }).onConflict("index").ignore();
}

async function underServerLock<T>(db: Knex, tableName: string, deadline: number, run: () => Promise<T>): Promise<T> {
  const [[{ schema }]] = (await db.raw("SELECT DATABASE() AS `schema`")) as [[{ schema: string }]];
  // GET_LOCK names are server-wide and at most 64 characters.
  const name = `zenflow-migrate-${createHash("sha256").update(`${schema}/${tableName}`).digest("hex").slice(0, 40)}`;
  const conn: unknown = await db.client.acquireConnection();
  try {
    const waitSeconds = Math.max(1, Math.ceil((deadline - Date.now()) / 1000));
    const [[{ got }]] = (await db.raw("SELECT GET_LOCK(?, ?) AS got", [name, waitSeconds]).connection(conn)) as [[{ got: number | null }]];
    if (got !== 1) throw new Error(`another process has been migrating ${tableName} for over ${waitSeconds} s; giving up`);
    try {
      return await run();
    } finally {
      await db.raw("SELECT RELEASE_LOCK(?)", [name]).connection(conn);
    }
  } finally {
    await db.client.releaseConnection(conn);
  }
}

/** Runs `run` while no other process migrates the same migrations table. */
export async function withMigrationLock<T>(db: Knex, kind: DbKind, tableName: string, run: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  const lockTable = `${tableName}_lock`;
  await retrying(tableName, deadline, () => ensureLockRow(db, lockTable));
  if (kind !== "mysql") return retrying(tableName, deadline, run);
  return underServerLock(db, tableName, deadline, async () => {
    const rows = (await db(lockTable).select("index", "is_locked")) as { index: number; is_locked: number }[];
    if (rows.length !== 1 || rows[0]!.is_locked !== 0) {
      await db(lockTable).del();
      await db(lockTable).insert({ index: 1, is_locked: 0 });
    }
    return retrying(tableName, deadline, run);
  });
}

/** knex.migrate.latest() on the plugin's compiled migrations; returns the names that ran. */
export async function migratePlugin(db: Knex, kind: DbKind, directory: string, tableName: string): Promise<string[]> {
  const [, ran] = (await withMigrationLock(db, kind, tableName, () =>
    db.migrate.latest({ directory, tableName, loadExtensions: [".js"] }),
  )) as [number, string[]];
  return ran;
}
