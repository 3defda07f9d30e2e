// The Vendure plugin. `ZenflowPlugin.init({ config, publicUrl })` returns the class for
// vendure-config.ts's `plugins: [...]`. The class is a host of the ERP Plugin API: on
// bootstrap it opens ctx.db on Vendure's database, runs the plugin's migrations under a
// lock, loads the settings and activates the plugin; on shutdown it deactivates it while
// Vendure still delivers events (onModuleDestroy runs before the EventBus stops, and before
// the database connection closes).
//
// Decorators are applied as plain calls below rather than with `@` syntax: the package then
// compiles the same under any compiler setting (tsc, esbuild/tsx, with or without
// experimentalDecorators), and Nest's injection needs no emitted design-type metadata.
import { Inject, type OnApplicationBootstrap, type OnModuleDestroy, type Type } from "@nestjs/common";
import { ModuleRef } from "@nestjs/core";
import {
  AuthService,
  ConfigService,
  EventBus,
  NATIVE_AUTH_STRATEGY_NAME,
  PluginCommonModule,
  ProcessContext,
  RequestContextService,
  SessionService,
  type RuntimeVendureConfig,
  VendurePlugin,
} from "@vendure/core";
import type { Knex } from "knex";
import type { PluginLogger } from "zenflow-erp-plugin/host-api";
import { identify, zenflowAdminPermission } from "./admin-auth";
import { PluginActivation } from "./activation";
import { type ConfigStore, ConfigStore as Store, ensureConfigTable } from "./config-store";
import { compileConfigSchema } from "./config-schema";
import { type CorePackage, loadCorePackage } from "./core-package";
import { databaseKindOf, openVendureDatabase } from "./database";
import { vendureErpApi } from "./erp-api";
import { EventHub } from "./event-hub";
import { ZENFLOW_FULFILLMENT_HANDLER } from "./fulfillment-handler";
import { vendureLogger } from "./logger";
import { loginRouter } from "./login-routes";
import { migratePlugin, withMigrationLock } from "./migrations";
import { addMounts, findMounts } from "./mounts";
import { ADMIN_PREFIX, type ResolvedOptions, SETTINGS_PATH, type ZenflowPluginInitOptions, resolveOptions } from "./options";
import { zenflowOrderProcess } from "./order-process";
import { settingsRouter } from "./settings-routes";
import { vendureAccess } from "./vendure-access";
import { bridgeVendureEvents } from "./vendure-events";

let corePackage: CorePackage | null = null;
function core(): CorePackage {
  corePackage ??= loadCorePackage();
  return corePackage;
}

export class ZenflowPlugin implements OnApplicationBootstrap, OnModuleDestroy {
  /** Set by init(); read when Vendure configures and boots the plugin. */
  static options: ResolvedOptions | null = null;

  static init(options: ZenflowPluginInitOptions): Type<ZenflowPlugin> {
    ZenflowPlugin.options = resolveOptions(options, core().manifest);
    return ZenflowPlugin;
  }

  private db: Knex | null = null;
  private activation: PluginActivation | null = null;
  private store: ConfigStore | null = null;
  private offEvents: (() => void) | null = null;
  private readonly log: PluginLogger = vendureLogger();

  constructor(private readonly moduleRef: ModuleRef) {}

  async onApplicationBootstrap(): Promise<void> {
    const options = ZenflowPlugin.options;
    if (!options) throw new Error("ZenflowPlugin: add ZenflowPlugin.init({ publicUrl, config }) to plugins, not the bare class");
    const get = <T>(token: Type<T>): T => this.moduleRef.get(token, { strict: false });
    const { manifest, migrationsDir } = core();
    const plugin = options.plugin ?? core().plugin;
    const config = get(ConfigService);
    const dbOptions = config.dbConnectionOptions;
    const kind = databaseKindOf(dbOptions);
    const db = (this.db = openVendureDatabase(dbOptions));

    const ran = await migratePlugin(db, kind, migrationsDir, manifest.migrations.tableName);
    await withMigrationLock(db, kind, manifest.migrations.tableName, () => ensureConfigTable(db));
    this.log.info({ migrations: ran }, ran.length ? "ZenFlow tables migrated" : "ZenFlow tables up to date");

    const schema = compileConfigSchema(manifest.config);
    const store = (this.store = new Store({ db, schema, base: options.base, secretKey: options.secretKey, log: this.log, pluginId: manifest.id }));
    await store.load();
    store.startPolling(options.configPollMs);

    const access = vendureAccess({ get }, { db, kind, barcodeField: options.barcodeField, pluginId: manifest.id, dbOptions });
    const erp = vendureErpApi(access);
    const hub = new EventHub(new Set(manifest.hooks), this.log);
    this.offEvents = bridgeVendureEvents({ bus: get(EventBus), hub, erp, access, log: this.log });

    const isServer = get(ProcessContext).isServer;
    const mounts = isServer ? findMounts(config.apiOptions.middleware) : null;
    const activation = (this.activation = new PluginActivation({
      plugin,
      manifest,
      db,
      erp,
      hub,
      store,
      log: this.log,
      publicUrl: options.publicUrl,
      slots: mounts ? { public: mounts.public, admin: mounts.admin } : null,
      deactivateTimeoutMs: options.deactivateTimeoutMs,
    }));
    if (mounts) {
      const sessions = get(SessionService);
      const auth = get(AuthService);
      const contexts = get(RequestContextService);
      mounts.sessions = sessions;
      mounts.login = loginRouter({
        homePath: `${SETTINGS_PATH}/`,
        secureCookies: options.publicUrl.startsWith("https:"),
        async authenticate(username, password) {
          const ctx = await contexts.create({ apiType: "admin" });
          const session = await auth.authenticate(ctx, "admin", NATIVE_AUTH_STRATEGY_NAME, { username, password });
          if (!("token" in session) || typeof session.token !== "string") return null;
          // Only administrators allowed here get the cookie.
          const who = await identify(sessions, { headers: { authorization: `Bearer ${session.token}` } } as never);
          return who ? session.token : null;
        },
      });
      mounts.settings = settingsRouter({
        manifest,
        store: () => this.store,
        health: () => activation.health(),
        runAction: (id, input) => activation.runAction(id, input),
        dashboardPath: `${ADMIN_PREFIX}/${manifest.id}`,
        properties: schema.properties,
      });
    }
    try {
      await activation.activate();
    } catch (err) {
      // A plugin that cannot start must not take the shop down: it shows as down in health.
      this.log.error({ err }, "the ZenFlow plugin could not be activated");
    }
  }

  async onModuleDestroy(): Promise<void> {
    await this.activation?.deactivate();
    this.offEvents?.();
    this.store?.stopPolling();
    await this.db?.destroy();
    this.db = null;
  }
}

/** Adds what the plugin needs to Vendure's configuration (run by Vendure before bootstrap). */
function configure(config: RuntimeVendureConfig): RuntimeVendureConfig {
  const { manifest } = core();
  addMounts(config, manifest.id);
  config.authOptions.customPermissions = [...(config.authOptions.customPermissions ?? []), zenflowAdminPermission];
  config.orderOptions.process = [...(config.orderOptions.process ?? []), zenflowOrderProcess];
  config.shippingOptions.fulfillmentHandlers = [...(config.shippingOptions.fulfillmentHandlers ?? []), ZENFLOW_FULFILLMENT_HANDLER];
  return config;
}

Inject(ModuleRef)(ZenflowPlugin, undefined, 0);
VendurePlugin({
  imports: [PluginCommonModule],
  configuration: configure,
  compatibility: "^3.0.0",
})(ZenflowPlugin);
