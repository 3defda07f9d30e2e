// A real Vendure for the adapter tests, booted in-process with @vendure/testing on
// better-sqlite3 or on a fresh MariaDB schema, with the ZenFlow plugin installed from its
// package. The shop's catalog is imported once: on SQLite the populated file is cached (keyed
// by Vendure's version and the fixtures) and copied per suite; on MariaDB each suite imports
// into its own schema. The server listens on port 0.
import { createHash, randomBytes } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dummyPaymentHandler, mergeConfig, type VendureConfig } from "@vendure/core";
import { registerInitializer, TestServer, testConfig, type TestDbInitializer } from "@vendure/testing";
import knexFactory from "knex";
import type { ErpPlugin } from "zenflow-erp-plugin/host-api";
import { ZenflowPlugin, type ZenflowSettings } from "../../src";
import { GraphqlClient } from "./graphql";
import { initialData } from "./initial-data";
import { RecordingVendureLogger } from "./recording-logger";

export type DbKind = "sqlite" | "mariadb";

const FIXTURES = join(__dirname, "..", "fixtures");
const PRODUCTS_CSV = join(FIXTURES, "products.csv");
const SECRET_KEY = "test-secret-key-for-zenflow-settings";
export const MARIADB = { host: "127.0.0.1", port: 3306, username: "root", password: "" };

/** The test shop's extra schema: a barcode on variants, as many shops have. */
const customFields: VendureConfig["customFields"] = {
  ProductVariant: [{ name: "barcode", type: "string", nullable: true }],
};

type DbOptions = VendureConfig["dbConnectionOptions"];

/** The options TestServer.init hands us are used as they are: schema sync on, no dropping. */
class PreparedDbInitializer implements TestDbInitializer<DbOptions> {
  async init(_file: string, options: DbOptions): Promise<DbOptions> {
    (options as { synchronize?: boolean }).synchronize = true;
    return options;
  }
  async populate(populate: () => Promise<void>): Promise<void> {
    await populate();
  }
  async destroy(): Promise<void> {}
}
registerInitializer("better-sqlite3", new PreparedDbInitializer());
registerInitializer("mariadb", new PreparedDbInitializer());

function baseConfig(db: DbOptions, extra: Partial<VendureConfig> = {}): VendureConfig {
  return mergeConfig(testConfig, {
    apiOptions: { port: 0 },
    dbConnectionOptions: db,
    customFields,
    paymentOptions: { paymentMethodHandlers: [dummyPaymentHandler] },
    ...extra,
  } as Partial<VendureConfig>) as VendureConfig;
}

/** Installed but inert while the catalog is imported: no events recorded, nothing sent. */
const INERT_PLUGIN: ErpPlugin = { activate: async () => undefined, deactivate: async () => undefined };

async function populate(db: DbOptions): Promise<void> {
  // Vendure's AppModule takes its plugin list from the first boot in a process, so the
  // plugin is installed (inert) here too; its tables then already exist, as after an upgrade.
  const plugins = [ZenflowPlugin.init({ publicUrl: "http://127.0.0.1", plugin: INERT_PLUGIN, secretKey: SECRET_KEY })];
  const server = new TestServer(baseConfig({ ...db, synchronize: true } as DbOptions, { plugins }) as Required<VendureConfig>);
  await server.init({ initialData, productsCsvPath: PRODUCTS_CSV, customerCount: 1, logging: false });
  await server.destroy();
}

function cacheKey(): string {
  const version = (require("@vendure/core/package.json") as { version: string }).version;
  return createHash("sha256")
    .update(version)
    .update(readFileSync(PRODUCTS_CSV))
    .update(JSON.stringify(initialData))
    .update(JSON.stringify(customFields))
    .digest("hex")
    .slice(0, 16);
}

async function prepareSqlite(dir: string): Promise<DbOptions> {
  const cacheDir = join(tmpdir(), "zenflow-vendure-test-cache");
  mkdirSync(cacheDir, { recursive: true });
  const cached = join(cacheDir, `${cacheKey()}.sqlite`);
  if (!existsSync(cached)) {
    // Populated under a unique name, then renamed: suites starting together never see half a file.
    const building = join(cacheDir, `${cacheKey()}.${process.pid}.${randomBytes(3).toString("hex")}.sqlite`);
    await populate({ type: "better-sqlite3", database: building } as DbOptions);
    renameSync(building, cached);
  }
  const file = join(dir, "vendure.sqlite");
  copyFileSync(cached, file);
  return { type: "better-sqlite3", database: file, synchronize: false, logging: false } as DbOptions;
}

async function prepareMariadb(): Promise<{ options: DbOptions; drop: () => Promise<void> }> {
  const name = `zf_v_${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`;
  const admin = knexFactory({ client: "mysql2", connection: { host: MARIADB.host, port: MARIADB.port, user: MARIADB.username, password: MARIADB.password }, pool: { min: 0, max: 1 } });
  await admin.raw(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  const options = { type: "mariadb", ...MARIADB, database: name, synchronize: false, logging: false } as DbOptions;
  await populate(options);
  return {
    options,
    async drop() {
      await admin.raw(`DROP DATABASE IF EXISTS \`${name}\``);
      await admin.destroy();
    },
  };
}

export interface VendureStartOptions {
  /** Fixed port (the plugin's publicUrl must be known before boot); default any free port. */
  port?: number;
  config?: ZenflowSettings;
  plugin?: ErpPlugin;
  publicUrl?: string;
}

export interface TestVendure {
  kind: DbKind;
  url: string;
  dbOptions: DbOptions;
  log: RecordingVendureLogger;
  shop(): GraphqlClient;
  admin(): Promise<GraphqlClient>;
  /** Graceful stop and start of the same Vendure on the same database (a restart). */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function startVendure(kind: DbKind, o: VendureStartOptions = {}): Promise<TestVendure> {
  const dir = mkdtempSync(join(tmpdir(), "zenflow-vendure-"));
  const db = kind === "sqlite" ? { options: await prepareSqlite(dir), drop: async () => undefined } : await prepareMariadb();
  const log = new RecordingVendureLogger();
  const port = o.port ?? 0;
  const plugin = ZenflowPlugin.init({
    publicUrl: o.publicUrl ?? `http://127.0.0.1:${port}`,
    config: o.config,
    plugin: o.plugin,
    configPollMs: 200,
    deactivateTimeoutMs: 10_000,
    secretKey: SECRET_KEY,
  });
  const config = baseConfig(db.options, { plugins: [plugin], logger: log });
  config.apiOptions.port = port;
  const server = new TestServer(config as Required<VendureConfig>);
  let url = "";
  const boot = async () => {
    await server.bootstrap();
    const app = (server as unknown as { app: { getHttpServer(): { address(): AddressInfo } } }).app;
    url = `http://127.0.0.1:${app.getHttpServer().address().port}`;
  };
  try {
    await boot();
  } catch (err) {
    await db.drop().catch(() => undefined);
    throw err;
  }
  const vendure: TestVendure = {
    kind,
    get url() {
      return url;
    },
    dbOptions: db.options,
    log,
    shop: () => new GraphqlClient(`${url}/shop-api`),
    async admin() {
      const client = new GraphqlClient(`${url}/admin-api`);
      await client.query(`mutation { login(username: "superadmin", password: "superadmin") { ... on CurrentUser { id } } }`);
      return client;
    },
    async restart() {
      await server.destroy();
      await boot();
    },
    async close() {
      await server.destroy().catch(() => undefined);
      await db.drop().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return vendure;
}
