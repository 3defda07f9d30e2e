// The reference host: a small ERP that implements the host side of the ERP Plugin API
// (../../shared/erp-plugin-api.md, types in plugin/core/host-api.ts) for exactly one plugin.
// Several hosts may share one database, each behaving like a separate ERP process.
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { resolve } from "node:path";
import type { Knex } from "knex";
import type { ActionResult, ErpPlugin, HealthReport, PluginContext, PluginLogger, PluginManifest } from "../../plugin/core/host-api";
import { ConfigStore, type SaveResult } from "./config-store";
import type { SchemaNode } from "./config-schema";
import { DEFAULT_DATABASE_URL, openDatabase } from "./database";
import { createErp, type Erp } from "./erp";
import type { EventStat } from "./event-stats";
import { EventBus } from "./events";
import { createApp, mountRoutes } from "./http-app";
import { childLogger, defaultLogger } from "./logger";
import { loadPlugin, ManifestError, pluginProblems, readManifest } from "./manifest";
import { PluginRuntime, type PluginState } from "./plugin-runtime";
import { RouterSlot } from "./router-slot";
import { ensureHostSchema } from "./schema";
import { createCipher, resolveSecretKey } from "./secrets";

export { HOST_API_VERSION, KNOWN_EVENTS, KNOWN_PERMISSIONS, ManifestError, validateManifest } from "./manifest";
export { openDatabase, databaseKind, type DbKind } from "./database";
export type {
  Erp,
  ErpError,
  NewOrderInput,
  OrderPatch,
  NewProductInput,
  ProductPatch,
  OrderNote,
  OrderHistoryEntry,
  Shipment,
  StockChange,
} from "./erp";
export type { EventStat } from "./event-stats";
export type { PluginState } from "./plugin-runtime";

export interface HostOptions {
  /** "sqlite:/path/file.sqlite" (default sqlite:./var/erp.sqlite) or "mysql://…". Ignored when `db` is given. */
  databaseUrl?: string;
  /** An already-open knex (tests share one database between several hosts); the host does not destroy it. */
  db?: Knex;
  /** Folder holding manifest.json. */
  pluginDir: string;
  /** Use this plugin object instead of loading manifest.main (one independent instance per host in one OS process). */
  plugin?: ErpPlugin;
  port?: number;
  /** Interface to listen on; default 127.0.0.1. */
  listenHost?: string;
  /** External base URL; default http://127.0.0.1:<port>. */
  publicBaseUrl?: string;
  adminToken?: string;
  logger?: PluginLogger;
  processName?: string;
  /** How often this host looks for config saved by another process; default 500 ms. */
  configPollMs?: number;
  /** How often plugin.health() is polled while enabled; default 30 s. */
  healthPollMs?: number;
  /** Deadline for plugin.deactivate(); default 30 s (contract section 2). */
  deactivateTimeoutMs?: number;
  /** Encrypts writeOnly config values at rest; default ERP_SECRET_KEY or var/host-secret.key. */
  secretKey?: string;
  /**
   * Read contract section 4 literally: config.get() returns {} before the first save,
   * without schema defaults. Default false (section 8: defaults are filled in).
   */
  emptyConfigBeforeFirstSave?: boolean;
  /** See ErpOptions.readCostMs (benchmarks). */
  erpReadCostMs?: number;
}

export interface Host {
  url: string;
  /** The context of the current (or next) activation. */
  readonly ctx: PluginContext;
  plugin: ErpPlugin;
  manifest: PluginManifest;
  erp: Erp;
  db: Knex;
  adminToken: string;
  readonly state: PluginState;
  install(): Promise<void>;
  enable(): Promise<void>;
  disable(): Promise<void>;
  uninstall(o?: { dropData?: boolean }): Promise<void>;
  saveConfig(values: Record<string, unknown>): Promise<SaveResult>;
  runAction(id: string, input?: unknown): Promise<ActionResult>;
  health(): Promise<HealthReport>;
  eventStats(): EventStat[];
  close(): Promise<void>;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolveListen, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolveListen((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolveClose) => {
    if (!server.listening) {
      resolveClose();
      return;
    }
    server.close(() => resolveClose());
    // Keep-alive connections would hold close() open until they time out.
    server.closeAllConnections();
  });
}

export async function startHost(opts: HostOptions): Promise<Host> {
  const baseLog = opts.logger ?? defaultLogger(opts.processName);
  // pino's default logger already carries the process name in its base fields.
  const log = opts.logger && opts.processName ? childLogger(opts.logger, { process: opts.processName }) : baseLog;
  const pluginDir = resolve(opts.pluginDir);

  // A plugin is refused before any of its code runs (bad manifest, unsatisfied erpApi).
  const manifest = await readManifest(pluginDir);
  const plugin = opts.plugin ?? (await loadPlugin(pluginDir, manifest));
  const problems = pluginProblems(plugin, manifest);
  if (problems.length > 0) throw new ManifestError(problems, manifest.main);

  const ownsDb = !opts.db;
  const db = opts.db ?? openDatabase(opts.databaseUrl ?? DEFAULT_DATABASE_URL);
  const app = createApp();
  const server = createServer(app);
  let runtime: PluginRuntime | undefined;
  let config: ConfigStore | undefined;
  try {
    await ensureHostSchema(db);
    const cipher = createCipher(resolveSecretKey(opts.secretKey));
    config = new ConfigStore(db, manifest.id, manifest.config as SchemaNode, cipher, log, {
      emptyBeforeFirstSave: opts.emptyConfigBeforeFirstSave ?? false,
    });
    await config.load();
    const bus = new EventBus(log);
    const erpRuntime = createErp(db, (name, payload, meta) => bus.emit(name, payload, meta), log, { readCostMs: opts.erpReadCostMs });
    const slots = { public: new RouterSlot(), admin: new RouterSlot() };

    const listenHost = opts.listenHost ?? "127.0.0.1";
    const port = await listen(server, opts.port ?? 0, listenHost);
    const url = `http://${listenHost === "0.0.0.0" || listenHost === "::" ? "127.0.0.1" : listenHost}:${port}`;
    const publicBaseUrl = (opts.publicBaseUrl ?? url).replace(/\/+$/, "");
    const adminToken = opts.adminToken ?? randomBytes(24).toString("base64url");

    const rt = new PluginRuntime({
      db,
      pluginDir,
      manifest,
      plugin,
      bus,
      config,
      erp: erpRuntime.apiFor(manifest.id, manifest.permissions),
      hostLog: log,
      pluginLog: childLogger(log, { plugin: manifest.id }),
      publicUrl: `${publicBaseUrl}/plugins/${manifest.id}`,
      slots,
      deactivateTimeoutMs: opts.deactivateTimeoutMs ?? 30_000,
      healthPollMs: opts.healthPollMs ?? 30_000,
    });
    runtime = rt;
    const store = config;

    const saveConfig = (values: Record<string, unknown>) => store.save(values);
    mountRoutes(app, {
      adminToken,
      publicBaseUrl: () => publicBaseUrl,
      ...(opts.processName ? { processName: opts.processName } : {}),
      manifest,
      db,
      log,
      erp: erpRuntime.erp,
      slots,
      config: store,
      state: () => rt.currentState,
      lastHealth: () => rt.lastHealth,
      health: () => rt.health(),
      enable: () => rt.enable(),
      disable: () => rt.disable(),
      saveConfig,
      runAction: (id, input) => rt.runAction(id, input),
      eventStats: () => bus.eventStats(),
    });
    store.startPolling(opts.configPollMs ?? 500);

    let closing: Promise<void> | null = null;
    const host: Host = {
      url,
      get ctx() {
        return rt.ctx;
      },
      plugin,
      manifest,
      erp: erpRuntime.erp,
      db,
      adminToken,
      get state() {
        return rt.currentState;
      },
      install: () => rt.install(),
      enable: () => rt.enable(),
      disable: () => rt.disable(),
      uninstall: (o) => rt.uninstall(o),
      saveConfig,
      runAction: (id, input) => rt.runAction(id, input),
      health: () => rt.health(),
      eventStats: () => bus.eventStats(),
      close() {
        closing ??= (async () => {
          try {
            await rt.disable();
          } finally {
            await rt.stopTimers();
            await store.stopPolling();
            await closeServer(server);
            if (ownsDb) await db.destroy();
          }
        })();
        return closing;
      },
    };
    log.info({ url, plugin: manifest.id, publicUrl: `${publicBaseUrl}/plugins/${manifest.id}` }, "ERP host started");
    return host;
  } catch (err) {
    await runtime?.stopTimers();
    await config?.stopPolling();
    await closeServer(server);
    if (ownsDb) await db.destroy();
    throw err;
  }
}
