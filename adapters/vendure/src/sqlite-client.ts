// knex's better-sqlite3 client, adapted to share the database file with Vendure's own
// connection inside one process.
//
// Vendure's transactions stay open across awaits (password hashing, other I/O) holding a
// SHARED or RESERVED lock, and better-sqlite3 waits for locks by blocking the thread, which
// the lock holder needs to finish. So:
//   - transactions begin EXCLUSIVE: they get the whole lock up front, or fail at BEGIN
//     holding nothing. A DEFERRED one could fail at COMMIT instead, and knex does not roll
//     back after a failed COMMIT: the connection would keep its lock and fail Vendure's
//     writes from then on. Our transactions only await database calls, so Vendure's code
//     never runs while they hold the lock;
//   - SQLITE_BUSY outside a transaction (an autocommit statement, or that BEGIN) is retried
//     after a short asynchronous pause, which lets Vendure finish what holds the lock.
//     SQLite has already undone the refused statement, so retrying it is safe.
import type { Knex } from "knex";

type Ctor<T = object> = new (...args: never[]) => T;
interface TransactionLike {
  query(conn: unknown, sql: string): Promise<unknown>;
}
interface ClientLike {
  _query(conn: unknown, obj: unknown): Promise<unknown>;
}

// knex has no public extension point for this; both modules are part of knex 3's layout.
const BetterSqlite3Client = require("knex/lib/dialects/better-sqlite3") as Ctor<ClientLike>;
const SqliteTransaction = require("knex/lib/dialects/sqlite3/execution/sqlite-transaction") as Ctor<TransactionLike>;

/** About two seconds of patience in total, then the plugin's own retry takes over. */
const BUSY_RETRIES = 60;

function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === "string" && code.startsWith("SQLITE_BUSY");
}

class ExclusiveTransaction extends SqliteTransaction {
  begin(conn: unknown): Promise<unknown> {
    return this.query(conn, "BEGIN EXCLUSIVE;");
  }
}

class VendureSqliteClient extends BetterSqlite3Client {
  transaction(...args: unknown[]): unknown {
    return new (ExclusiveTransaction as unknown as new (...a: unknown[]) => object)(this, ...args);
  }

  override async _query(conn: unknown, obj: unknown): Promise<unknown> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await super._query(conn, obj);
      } catch (err) {
        const inTransaction = (conn as { inTransaction?: boolean }).inTransaction === true;
        if (!isBusy(err) || inTransaction || attempt >= BUSY_RETRIES) throw err;
        await new Promise((r) => setTimeout(r, 10 + Math.floor(Math.random() * 40)));
      }
    }
  }
}

export const vendureSqliteClient = VendureSqliteClient as unknown as Knex.Config["client"];
