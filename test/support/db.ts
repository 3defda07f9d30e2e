// Real databases for tests: a fresh SQLite file or a fresh MariaDB schema per call.
// Which engines a run covers comes from ZENFLOW_TEST_DBS (default "sqlite,mariadb");
// an unreachable MariaDB fails the run instead of silently skipping it.
import { labelPort, trackOpen } from "./leak-check";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Knex } from "knex";
import { openDatabase } from "../../dev/host/database";

export type TestDbKind = "sqlite" | "mariadb";

export function testDbKinds(): TestDbKind[] {
  const raw = process.env.ZENFLOW_TEST_DBS ?? "sqlite,mariadb";
  return raw
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      if (s === "sqlite" || s === "mariadb") return s;
      throw new Error(`ZENFLOW_TEST_DBS: unknown database "${s}" (use sqlite and/or mariadb)`);
    });
}

export const MARIADB_URL = process.env.ZENFLOW_TEST_MARIADB_URL ?? "mysql://root@127.0.0.1:3306/test";
labelPort(Number(new URL(MARIADB_URL).port || 3306), "MariaDB: a knex pool not destroyed?");

export interface TestDb {
  kind: TestDbKind;
  /** A connection URL that another process (or another knex) can open. */
  url: string;
  knex: Knex;
  /** Opens an extra, independent knex on the same database (a second "ERP process"). */
  connect(): Knex;
  destroy(): Promise<void>;
}

/** The reference host's own settings, so tests open databases exactly as the host does. */
export function knexForUrl(url: string, opts: { pool?: { max?: number } } = {}): Knex {
  return openDatabase(url, opts);
}

function testDb(kind: TestDbKind, url: string, cleanup: () => Promise<void>): TestDb {
  const opened: Knex[] = [];
  let destroyed = false;
  trackOpen(`a test database (${kind}: ${url.replace(/^.*[/:]/, "")})`, () => !destroyed);
  const connect = () => {
    const k = knexForUrl(url);
    opened.push(k);
    return k;
  };
  return {
    kind,
    url,
    knex: connect(),
    connect,
    async destroy() {
      await Promise.all(opened.map((k) => k.destroy()));
      await cleanup();
      destroyed = true;
    },
  };
}

export async function createTestDb(kind: TestDbKind): Promise<TestDb> {
  if (kind === "sqlite") {
    const dir = mkdtempSync(join(tmpdir(), "zenflow-test-"));
    return testDb(kind, `sqlite:${join(dir, "erp.sqlite")}`, async () => rmSync(dir, { recursive: true, force: true }));
  }
  const name = `zf_t_${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`;
  const admin = knexForUrl(MARIADB_URL, { pool: { max: 1 } });
  try {
    await admin.raw(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  } catch (err) {
    await admin.destroy();
    throw new Error(
      `MariaDB is not reachable at ${MARIADB_URL} (${(err as Error).message}). Start it with ` +
        "`start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd`, " +
        "or run only SQLite with ZENFLOW_TEST_DBS=sqlite.",
    );
  }
  const url = new URL(MARIADB_URL);
  url.pathname = `/${name}`;
  return testDb(kind, url.toString(), async () => {
    await admin.raw(`DROP DATABASE IF EXISTS \`${name}\``);
    await admin.destroy();
  });
}
