// Runs an ERP write in a transaction and collects the events it causes, so that they are
// emitted only after COMMIT (contract section 5).
import type { Knex } from "knex";
import { databaseKind } from "../database";
import { isTransientDbError, toErpError } from "./errors";

export interface PendingEvent {
  name: string;
  payload: unknown;
}

export interface WriteResult<T> {
  value: T;
  events: PendingEvent[];
}

const ATTEMPTS = 4;

export async function writeTx<T>(db: Knex, work: (trx: Knex.Transaction, events: PendingEvent[]) => Promise<T>): Promise<WriteResult<T>> {
  const sqlite = databaseKind(db) === "sqlite";
  for (let attempt = 1; ; attempt++) {
    const events: PendingEvent[] = [];
    try {
      const value = await db.transaction(async (trx) => {
        // knex opens SQLite transactions with a deferred BEGIN; a read followed by a write
        // then fails with SQLITE_BUSY without waiting when another process wrote meanwhile.
        // Writing first takes the write lock up front, where busy_timeout applies.
        if (sqlite) await trx.raw("UPDATE erp_locations SET id = id WHERE 1 = 0");
        return work(trx, events);
      });
      return { value, events };
    } catch (err) {
      if (attempt < ATTEMPTS && isTransientDbError(err)) {
        await new Promise((r) => setTimeout(r, 20 * attempt + Math.random() * 30));
        continue;
      }
      throw toErpError(err);
    }
  }
}

/** Reads map database failures to `unavailable` too. */
export async function read<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw toErpError(err);
  }
}

/** On MariaDB, lock the rows read for update; SQLite already holds the write lock. */
export function forUpdate<Q extends Knex.QueryBuilder>(db: Knex, q: Q): Q {
  return databaseKind(db) === "mysql" ? (q.forUpdate() as Q) : q;
}
