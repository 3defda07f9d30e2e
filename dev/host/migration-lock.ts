// Running knex migrations from several ERP processes that start at the same moment.
//
// knex guards a migration run with a one-row lock table, but it creates that table and its
// row with check-then-insert: two processes starting together can both insert a row, and
// from then on knex's "UPDATE … WHERE is_locked = 0" touches two rows, which it reports as
// "Migration table is already locked" for ever (seen in CI on MariaDB). On MariaDB a
// process that dies mid-migration also leaves the lock set, because DDL commits implicitly.
// So, before knex looks at its tables:
//   - the lock table and its single row (primary key 1) are created race-free here;
//   - on MariaDB, migrators are serialised by a server-side GET_LOCK held on a connection
//     of its own (released by the server if the process dies), and a knex lock found set
//     while we hold it can only be stale, so it is cleared.
// What stays transient (SQLITE_BUSY, two processes creating the migrations table, a
// deadlock) is retried until a deadline instead of failing the start.
import { createHash } from "node:crypto";
import type { Knex } from "knex";
import { databaseKind } from "./database";

const LOCK_WAIT_MS = 60_000;

function isTransientMigrationError(err: unknown, tableName: string): boolean {
  const msg = err instanceof Error ? err.message : String(err);
  // "already exists" / duplicate rows only count when they concern knex's own bookkeeping
  // tables: a plugin migration that creates an existing table is a real error.
  const aboutLockTables = msg.includes(tableName);
  return (
    /already locked/i.test(msg) ||
    (aboutLockTables && /already exists|Duplicate entry|UNIQUE constraint failed/i.test(msg)) ||
    /SQLITE_BUSY|database is locked/i.test(msg) ||
    /Deadlock/i.test(msg)
  );
}

async function retryTransient<T>(tableName: string, deadline: number, step: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await step();
    } catch (err) {
      if (!isTransientMigrationError(err, tableName) || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, Math.min(50 * 2 ** attempt, 500) + Math.random() * 50));
    }
  }
}

/** The table knex would create, with its one row inserted under a fixed key so that racing inserts collapse. */
async function ensureLockRow(db: Knex, lockTable: string): Promise<void> {
  if (!(await db.schema.hasTable(lockTable))) {
    await db.schema.createTable(lockTable, (t) => {
      t.increments("index").primary();
      t.integer("is_locked");
    });
  }
  // Only into an empty table: a lock table knex filled earlier keeps its own row.
  const [{ n }] = (await db(lockTable).count({ n: "*" })) as [{ n: number | string }];
  if (Number(n) === 0) await db(lockTable).insert({ index: 1, is_locked: 0 }).onConflict("index").ignore();
}

async function holdingServerLock<T>(db: Knex, tableName: string, deadline: number, run: () => Promise<T>): Promise<T> {
  const [[{ schema }]] = (await db.raw("SELECT DATABASE() AS `schema`")) as [[{ schema: string }]];
  // GET_LOCK names are server-wide and at most 64 characters.
  const name = `erp-migrate-${createHash("sha256").update(`${schema}/${tableName}`).digest("hex").slice(0, 40)}`;
  const conn = await db.client.acquireConnection();
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

export async function withMigrationLock<T>(db: Knex, tableName: string, run: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  const lockTable = `${tableName}_lock`;
  await retryTransient(tableName, deadline, () => ensureLockRow(db, lockTable));
  if (databaseKind(db) !== "mysql") return retryTransient(tableName, deadline, run);
  return holdingServerLock(db, tableName, deadline, async () => {
    // Nobody else can be migrating now: any set lock, or a stray second row, is left over.
    const rows = (await db(lockTable).select("index", "is_locked")) as { index: number; is_locked: number }[];
    if (rows.length !== 1 || rows[0]!.is_locked !== 0) {
      await db(lockTable).del();
      await db(lockTable).insert({ index: 1, is_locked: 0 });
    }
    return retryTransient(tableName, deadline, run);
  });
}
