// knex's migrator refuses to run while another process holds its lock row ("Migration table
// is already locked"), and two processes creating the lock table at the same moment can
// collide on CREATE TABLE. Both are transient when several ERP processes start together, so
// wait and try again instead of failing the start.
const LOCK_WAIT_MS = 30_000;

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

export async function withMigrationLock<T>(tableName: string, run: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (let attempt = 0; ; attempt++) {
    try {
      return await run();
    } catch (err) {
      if (!isTransientMigrationError(err, tableName) || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, Math.min(50 * 2 ** attempt, 500) + Math.random() * 50));
    }
  }
}
