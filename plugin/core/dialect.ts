// The few places where MariaDB/MySQL and SQLite differ, in one file.
import type { Knex } from "knex";

export function isMysql(db: Knex): boolean {
  const client = String((db.client as { config?: { client?: unknown } }).config?.client ?? "");
  return client === "mysql" || client === "mysql2";
}

/**
 * INSERT unless a row with the same unique key exists. Never MySQL's INSERT IGNORE (what
 * knex's onConflict().ignore() becomes there): IGNORE also turns a value too long for its
 * column into a warning and stores it cut, and a cut key is another entity's key.
 */
export function insertIfAbsent(db: Knex, table: string, rows: Record<string, unknown> | Record<string, unknown>[], conflict: string[]) {
  const first = conflict[0]!;
  return db(table)
    .insert(rows)
    .onConflict(conflict)
    .merge({ [first]: db.raw("??", [first]) });
}

/** A unique-constraint violation, whichever driver raised it. */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; errno?: number } | null;
  if (!e) return false;
  return (
    e.code === "ER_DUP_ENTRY" || e.errno === 1062 || e.code === "SQLITE_CONSTRAINT_UNIQUE" || e.code === "SQLITE_CONSTRAINT_PRIMARYKEY"
  );
}

/** Busy/locked/deadlock/connection errors: the statement may succeed if tried again. */
export function isTransientDbError(err: unknown): boolean {
  const e = err as { code?: string; errno?: number; message?: string } | null;
  if (!e) return false;
  const code = e.code ?? "";
  return (
    code === "SQLITE_BUSY" ||
    code === "SQLITE_LOCKED" ||
    code === "ER_LOCK_DEADLOCK" ||
    code === "ER_LOCK_WAIT_TIMEOUT" ||
    code === "PROTOCOL_CONNECTION_LOST" ||
    code === "ECONNREFUSED" ||
    code === "ECONNRESET" ||
    code === "ETIMEDOUT" ||
    code === "EPIPE" ||
    code === "ER_CON_COUNT_ERROR" ||
    code === "ER_SERVER_SHUTDOWN" ||
    /Knex: Timeout acquiring a connection/.test(e.message ?? "") ||
    /Connection lost|closed state|ECONNRESET/.test(e.message ?? "")
  );
}

/** Drivers return BIGINT/COUNT as number, string or bigint depending on host settings. */
export function num(v: unknown): number {
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  if (typeof v === "string" && v !== "") return Number(v);
  return 0;
}

export function numOrNull(v: unknown): number | null {
  return v === null || v === undefined ? null : num(v);
}

/** Rows affected by an UPDATE/DELETE through knex, across drivers. */
export function affected(result: unknown): number {
  if (typeof result === "number") return result;
  const r = result as { affectedRows?: number; changes?: number } | null;
  return num(r?.affectedRows ?? r?.changes ?? 0);
}

/** Rows a raw statement changed: mysql2 answers [ResultSetHeader, fields], better-sqlite3 { changes }. */
export function rawAffected(result: unknown): number {
  if (Array.isArray(result)) return affected(result[0]);
  return affected(result);
}

/** Lock conflicts that the database resolved by failing one side: the statement can simply run again. */
export function isLockConflict(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code ?? "";
  // SQLITE_BUSY_SNAPSHOT: a WAL read snapshot went stale before the transaction wrote.
  return (
    code === "ER_LOCK_DEADLOCK" || code === "ER_LOCK_WAIT_TIMEOUT" || code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED")
  );
}

/** Runs `fn` again (a few times, with a short random pause) when it lost a lock conflict. */
export async function retryOnLockConflict<T>(fn: () => Promise<T>, attempts = 5): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= attempts || !isLockConflict(err)) throw err;
      await new Promise((r) => setTimeout(r, 2 + Math.random() * 10 * i));
    }
  }
}
