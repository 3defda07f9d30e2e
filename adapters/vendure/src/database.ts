// ctx.db: a Knex instance of our own on Vendure's own database, opened from the shop's
// `dbConnectionOptions`, with the connection settings the plugin contract promises (mysql2
// in UTC with exact BIGINTs and datetimes as strings; better-sqlite3 for the embedded case).
import knexFactory, { type Knex } from "knex";
import type { VendureConfig } from "@vendure/core";
import { vendureSqliteClient } from "./sqlite-client";

export type DbKind = "sqlite" | "mysql";

type DbOptions = VendureConfig["dbConnectionOptions"];

interface MysqlLikeOptions {
  url?: string;
  host?: string;
  port?: number;
  username?: string;
  password?: string;
  database?: string;
  socketPath?: string;
  ssl?: unknown;
  charset?: string;
}

export class UnsupportedDatabaseError extends Error {}

/** The plugin keeps to a small pool: it lives in the shop's database next to Vendure's own. */
const MYSQL_POOL_MAX = 5;

export function databaseKindOf(options: DbOptions): DbKind {
  if (options.type === "better-sqlite3") return "sqlite";
  if (options.type === "mysql" || options.type === "mariadb") return "mysql";
  throw new UnsupportedDatabaseError(
    `ZenFlow needs Vendure on MariaDB/MySQL or better-sqlite3; dbConnectionOptions.type is "${options.type}"`,
  );
}

function mysqlConnection(o: MysqlLikeOptions): Knex.MySql2ConnectionConfig {
  const fromUrl = o.url ? new URL(o.url) : null;
  return {
    host: o.host ?? fromUrl?.hostname ?? "127.0.0.1",
    port: o.port ?? (fromUrl?.port ? Number(fromUrl.port) : 3306),
    user: o.username ?? (fromUrl ? decodeURIComponent(fromUrl.username) : "root"),
    password: o.password ?? (fromUrl ? decodeURIComponent(fromUrl.password) : ""),
    database: o.database ?? (fromUrl ? decodeURIComponent(fromUrl.pathname.replace(/^\//, "")) : undefined),
    ...(o.socketPath ? { socketPath: o.socketPath } : {}),
    ...(o.ssl ? { ssl: o.ssl as Knex.MySql2ConnectionConfig["ssl"] } : {}),
    charset: o.charset ?? "utf8mb4",
    // The plugin stores instants in UTC and reads datetimes as strings: never local time.
    timezone: "Z",
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: false,
  };
}

/**
 * SQLite: our connection is a second one in Vendure's process. better-sqlite3 would block
 * the thread while it waits for a lock, and the holder may be Vendure's connection in this
 * very thread (which cannot release it while we block): we do not wait in SQLite, the
 * client retries asynchronously instead (sqlite-client.ts).
 */
const SQLITE_BUSY_TIMEOUT_MS = 0;

export function openVendureDatabase(options: DbOptions): Knex {
  const kind = databaseKindOf(options);
  if (kind === "mysql") {
    return knexFactory({ client: "mysql2", connection: mysqlConnection(options as MysqlLikeOptions), pool: { min: 0, max: MYSQL_POOL_MAX } });
  }
  const filename = (options as { database?: string }).database;
  if (!filename || filename === ":memory:") {
    throw new UnsupportedDatabaseError("ZenFlow needs a better-sqlite3 database file (an in-memory database cannot be shared with Vendure)");
  }
  return knexFactory({
    client: vendureSqliteClient,
    connection: { filename },
    useNullAsDefault: true,
    pool: {
      min: 1,
      max: 1,
      afterCreate(conn: { pragma(s: string): unknown }, done: (err: Error | null, conn: unknown) => void) {
        // The journal mode stays Vendure's: in WAL mode a write of ours between a read and a
        // write of one Vendure transaction fails Vendure's write (SQLITE_BUSY_SNAPSHOT).
        conn.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
        done(null, conn);
      },
    },
  });
}

/** Vendure's table names carry `entityPrefix` when the shop set one. */
export function vendureTable(options: DbOptions, name: string): string {
  return `${(options as { entityPrefix?: string }).entityPrefix ?? ""}${name}`;
}
