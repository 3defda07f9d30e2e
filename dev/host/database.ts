// Opens the ERP's database from a URL. The same settings serve the reference host, the
// CLI (dev/host/main.ts) and the tests, so that a plugin sees the connection the contract
// promises: mysql2 for MySQL/MariaDB, better-sqlite3 for the embedded edition.
import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import knexFactory, { type Knex } from "knex";

export type DbKind = "sqlite" | "mysql";

export interface OpenDatabaseOptions {
  pool?: { max?: number };
}

export const DEFAULT_DATABASE_URL = "sqlite:./var/erp.sqlite";

/** `sqlite:/abs/file.sqlite`, `sqlite:./rel.sqlite`, `mysql://user:pw@host:3306/db` (or `mariadb://`). */
export function openDatabase(url: string, opts: OpenDatabaseOptions = {}): Knex {
  if (url.startsWith("mysql://") || url.startsWith("mariadb://")) {
    const u = new URL(url.replace(/^mariadb:/, "mysql:"));
    return knexFactory({
      client: "mysql2",
      connection: {
        host: u.hostname,
        port: Number(u.port || 3306),
        user: decodeURIComponent(u.username || "root"),
        password: decodeURIComponent(u.password || ""),
        database: decodeURIComponent(u.pathname.replace(/^\//, "")),
        // Timestamps are ISO strings in UTC: never let the driver convert them to local time.
        timezone: "Z",
        dateStrings: true,
        supportBigNumbers: true,
        bigNumberStrings: false,
      },
      pool: { min: 0, max: opts.pool?.max ?? 10 },
    });
  }
  if (!url.startsWith("sqlite:")) {
    throw new Error(`unsupported DATABASE_URL "${url}": use sqlite:/path/file.sqlite or mysql://user@host:port/db`);
  }
  const filename = url.replace(/^sqlite:(\/\/)?/, "");
  if (filename !== ":memory:") mkdirSync(dirname(resolve(filename)), { recursive: true });
  return knexFactory({
    client: "better-sqlite3",
    connection: { filename },
    useNullAsDefault: true,
    // One connection: better-sqlite3 is synchronous, and a single writer per process keeps
    // SQLite's locking simple. Other processes are serialised by the file lock.
    pool: {
      min: 1,
      max: 1,
      afterCreate(conn: { pragma(s: string): unknown }, done: (err: Error | null, conn: unknown) => void) {
        // WAL lets readers in other processes proceed while one writes; busy_timeout makes a
        // second process wait for the write lock instead of failing at once.
        conn.pragma("journal_mode = WAL");
        conn.pragma("busy_timeout = 5000");
        // SQLite's recommendation for WAL: still corruption-safe, but commits no longer wait
        // for an fsync each (only checkpoints do), which keeps every write on the request path short.
        conn.pragma("synchronous = NORMAL");
        conn.pragma("foreign_keys = ON");
        done(null, conn);
      },
    },
  });
}

export function databaseKind(db: Knex): DbKind {
  const client = String((db.client as { config?: { client?: unknown } }).config?.client ?? "");
  if (client.includes("mysql")) return "mysql";
  if (client.includes("sqlite")) return "sqlite";
  throw new Error(`unsupported knex client "${client}"`);
}
