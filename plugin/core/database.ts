// Opens the ERP's database named by DATABASE_URL for the command line. It connects the way
// ERP hosts do (mysql2 with UTC and exact BIGINTs, better-sqlite3) but never creates
// anything: a mistyped SQLite path must fail, not leave an empty database behind.
import { existsSync } from "node:fs";
import knexFactory, { type Knex } from "knex";
import { Table } from "./tables";

export class DatabaseUnreachable extends Error {}

// knex prints connection errors itself; the CLI reports them once, in its own words.
const quiet = { warn() {}, error() {}, debug() {}, deprecate() {} };
export class UsageError extends Error {}
/** The URL with its password masked, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return url.replace(/\/\/([^:/@]+):[^@]*@/, "//$1:***@");
  }
}

/** `sqlite:/path/erp.sqlite`, `sqlite:./erp.sqlite`, `mysql://user:pw@host:3306/db` (or `mariadb://`). */
export function openCliDatabase(url: string): Knex {
  if (url.startsWith("mysql://") || url.startsWith("mariadb://")) {
    const u = new URL(url.replace(/^mariadb:/, "mysql:"));
    return knexFactory({
      client: "mysql2",
      log: quiet,
      connection: {
        host: u.hostname,
        port: Number(u.port || 3306),
        user: decodeURIComponent(u.username || "root"),
        password: decodeURIComponent(u.password || ""),
        database: decodeURIComponent(u.pathname.replace(/^\//, "")),
        // Instants are BIGINT epoch ms: no time-zone conversion, no precision loss.
        timezone: "Z",
        dateStrings: true,
        supportBigNumbers: true,
        bigNumberStrings: false,
        connectTimeout: 5000,
      },
      pool: { min: 0, max: 2 },
      acquireConnectionTimeout: 8000,
    });
  }
  if (url.startsWith("sqlite:")) {
    const filename = url.replace(/^sqlite:(\/\/)?/, "");
    if (!existsSync(filename)) throw new DatabaseUnreachable(`there is no SQLite database at ${filename}`);
    return knexFactory({
      client: "better-sqlite3",
      log: quiet,
      connection: { filename },
      useNullAsDefault: true,
      pool: {
        min: 1,
        max: 1,
        afterCreate(conn: { pragma(s: string): unknown }, done: (err: Error | null, conn: unknown) => void) {
          // The ERP is writing at the same time: wait for its lock instead of failing.
          conn.pragma("busy_timeout = 5000");
          done(null, conn);
        },
      },
    });
  }
  throw new UsageError(`DATABASE_URL must start with sqlite:, mysql:// or mariadb:// (got "${redactUrl(url)}")`);
}

/** Connects and checks the plugin's tables are there. */
export async function checkDatabase(db: Knex, url: string): Promise<void> {
  try {
    await db.raw("select 1");
  } catch (err) {
    throw new DatabaseUnreachable(`cannot reach the database at ${redactUrl(url)}: ${(err as Error).message}`);
  }
  if (!(await db.schema.hasTable(Table.outbox))) {
    throw new DatabaseUnreachable(`the database at ${redactUrl(url)} has no ZenFlow tables: is the plugin installed in this ERP?`);
  }
}
