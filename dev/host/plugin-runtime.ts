// The plugin lifecycle in one ERP process (contract section 2): install, enable (activate),
// disable (deactivate with a deadline, then unhook), uninstall; plus health and actions.
// Lifecycle steps are serialised so that activate and deactivate never overlap.
import type { Knex } from "knex";
import type {
  ActionResult,
  ErpApi,
  ErpPlugin,
  HealthReport,
  PluginContext,
  PluginLogger,
  PluginManifest,
} from "../../plugin/core/host-api";
import type { ConfigStore } from "./config-store";
import { withDeadline } from "./deadline";
import type { EventBus } from "./events";
import { validateManifest } from "./manifest";
import { Activation } from "./plugin-context";
import { migrateLatest, rollbackAll } from "./plugin-migrations";
import type { RouterSlot } from "./router-slot";

export type PluginState = "loaded" | "installed" | "active";

const HEALTH_STATUSES = new Set(["ok", "degraded", "down", "unconfigured"]);

export interface RuntimeOptions {
  db: Knex;
  pluginDir: string;
  manifest: PluginManifest;
  plugin: ErpPlugin;
  bus: EventBus;
  config: ConfigStore;
  erp: ErpApi;
  hostLog: PluginLogger;
  pluginLog: PluginLogger;
  publicUrl: string;
  slots: { public: RouterSlot; admin: RouterSlot };
  deactivateTimeoutMs: number;
  healthPollMs: number;
  healthTimeoutMs?: number;
  actionTimeoutMs?: number;
}

export interface HealthSnapshot extends HealthReport {
  checkedAt: string;
}

export class PluginRuntime {
  private state: PluginState = "loaded";
  private activation: Activation;
  private lifecycle: Promise<unknown> = Promise.resolve();
  private healthTimer: NodeJS.Timeout | null = null;
  private healthGeneration = 0;
  private lastHealthReport: HealthSnapshot | null = null;

  constructor(private readonly o: RuntimeOptions) {
    this.activation = this.newActivation();
  }

  get currentState(): PluginState {
    return this.state;
  }

  get ctx(): PluginContext {
    return this.activation.ctx;
  }

  get lastHealth(): HealthSnapshot | null {
    return this.lastHealthReport;
  }

  install(): Promise<void> {
    return this.serial(() => this.installNow());
  }

  enable(): Promise<void> {
    return this.serial(() => this.enableNow());
  }

  disable(): Promise<void> {
    return this.serial(() => this.disableNow());
  }

  uninstall(opts: { dropData?: boolean } = {}): Promise<void> {
    return this.serial(async () => {
      await this.disableNow();
      const { plugin, hostLog, manifest } = this.o;
      if (plugin.uninstall) {
        const act = this.freshActivation();
        act.used = true;
        try {
          await plugin.uninstall(act.ctx);
        } finally {
          act.close();
        }
      }
      if (opts.dropData) {
        const undone = await rollbackAll(this.o.db, this.o.pluginDir, manifest);
        await this.o.config.remove();
        hostLog.info({ plugin: manifest.id, undone }, "plugin uninstalled, data dropped");
      } else {
        hostLog.info({ plugin: manifest.id }, "plugin uninstalled, data kept");
      }
      this.state = "loaded";
    });
  }

  private serial<T>(step: () => Promise<T>): Promise<T> {
    const run = this.lifecycle.then(step);
    this.lifecycle = run.catch(() => undefined);
    return run;
  }

  private newActivation(): Activation {
    const { manifest, db, bus, config, erp, pluginLog, hostLog, publicUrl } = this.o;
    return new Activation({ manifest, db, bus, config, erp, log: pluginLog, hostLog, publicUrl });
  }

  private freshActivation(): Activation {
    if (this.activation.used) this.activation = this.newActivation();
    return this.activation;
  }

  private async installNow(): Promise<void> {
    const { manifest, hostLog } = this.o;
    // Re-checked here because install is the moment the contract names; cheap and idempotent.
    validateManifest(manifest);
    const ran = await migrateLatest(this.o.db, this.o.pluginDir, manifest);
    if (this.state === "loaded") this.state = "installed";
    hostLog.info({ plugin: manifest.id, migrations: ran }, ran.length ? "plugin migrations applied" : "plugin migrations up to date");
  }

  private async enableNow(): Promise<void> {
    if (this.state === "active") return;
    // Every process start runs latest(): it is a no-op when up to date and upgrades otherwise.
    await this.installNow();
    const { plugin, manifest, hostLog, slots, config } = this.o;
    await config.load();
    const act = this.freshActivation();
    act.used = true;
    // Routers go live with the event handlers, before activate() resolves, so a plugin can
    // serve requests as soon as it has registered its routes.
    slots.public.mount(act.ctx.http.public);
    slots.admin.mount(act.ctx.http.admin);
    try {
      await plugin.activate(act.ctx);
    } catch (err) {
      slots.public.unmount();
      slots.admin.unmount();
      act.close();
      hostLog.error({ err, plugin: manifest.id }, "plugin activate() failed");
      throw err;
    }
    this.state = "active";
    hostLog.info({ plugin: manifest.id, version: manifest.version }, "plugin activated");
    this.startHealthPolling();
  }

  private async disableNow(): Promise<void> {
    if (this.state !== "active") return;
    const { plugin, manifest, hostLog, slots } = this.o;
    const act = this.activation;
    this.stopHealthPolling();
    // A check already running finishes first (it has its own deadline).
    await this.healthSettled();
    act.abort();
    try {
      // Events are still delivered while deactivate() runs (contract section 8).
      await withDeadline(
        Promise.resolve().then(() => plugin.deactivate()),
        this.o.deactivateTimeoutMs,
        `${manifest.id}.deactivate()`,
      );
    } catch (err) {
      hostLog.error({ err, plugin: manifest.id }, "plugin deactivate() failed or timed out; unhooking it anyway");
    }
    act.close();
    slots.public.unmount();
    slots.admin.unmount();
    this.state = "installed";
    this.lastHealthReport = null;
    hostLog.info({ plugin: manifest.id }, "plugin deactivated");
  }

  async health(): Promise<HealthReport> {
    const check = this.checkHealth();
    // Disabling and closing wait for checks in flight: plugin.health() must not run on
    // against a plugin being deactivated, or a database being closed.
    this.healthChecks.add(check);
    try {
      const report = await check;
      this.lastHealthReport = { ...report, checkedAt: new Date().toISOString() };
      return report;
    } finally {
      this.healthChecks.delete(check);
    }
  }

  private readonly healthChecks = new Set<Promise<HealthReport>>();

  private async healthSettled(): Promise<void> {
    await Promise.allSettled([...this.healthChecks]);
  }

  private async checkHealth(): Promise<HealthReport> {
    if (this.state !== "active") return { status: "down", message: "plugin is not enabled" };
    const { plugin } = this.o;
    if (!plugin.health) return { status: "ok", message: "the plugin reports no health" };
    try {
      const r = await withDeadline(
        Promise.resolve().then(() => plugin.health!()),
        this.o.healthTimeoutMs ?? 10_000,
        "health()",
      );
      if (!r || typeof r !== "object" || !HEALTH_STATUSES.has(r.status))
        return { status: "down", message: "health() returned an invalid report" };
      return r;
    } catch (err) {
      return { status: "down", message: `health() failed: ${(err as Error).message}` };
    }
  }

  private startHealthPolling(): void {
    this.stopHealthPolling();
    // A generation number: a tick still running from an earlier activation must not reschedule.
    const generation = ++this.healthGeneration;
    const tick = async () => {
      try {
        await this.health();
      } catch (err) {
        this.o.hostLog.warn({ err }, "health poll failed");
      }
      if (this.state === "active" && generation === this.healthGeneration) {
        this.healthTimer = setTimeout(tick, this.o.healthPollMs);
        this.healthTimer.unref();
      }
    };
    // First check right away, so the plugin manager has a status to show.
    this.healthTimer = setTimeout(tick, 0);
    this.healthTimer.unref();
  }

  private stopHealthPolling(): void {
    this.healthGeneration++;
    if (this.healthTimer) clearTimeout(this.healthTimer);
    this.healthTimer = null;
  }

  async runAction(id: string, input?: unknown): Promise<ActionResult> {
    const { manifest, plugin, hostLog } = this.o;
    if (!manifest.actions.some((a) => a.id === id)) return { ok: false, message: `unknown action "${id}"` };
    const fn = plugin.actions?.[id];
    if (typeof fn !== "function") return { ok: false, message: `the plugin does not implement action "${id}"` };
    if (this.state !== "active") return { ok: false, message: "the plugin is not enabled" };
    try {
      const r = await withDeadline(
        Promise.resolve().then(() => fn.call(plugin.actions, this.activation.ctx, input)),
        this.o.actionTimeoutMs ?? 60_000,
        `action ${id}`,
      );
      if (!r || typeof r !== "object" || typeof r.ok !== "boolean" || typeof r.message !== "string") {
        return { ok: false, message: `action "${id}" returned an invalid result` };
      }
      return r;
    } catch (err) {
      hostLog.warn({ err, plugin: manifest.id, action: id }, "plugin action failed");
      return { ok: false, message: (err as Error).message || String(err) };
    }
  }

  /** For close(): stop timers even if the plugin is not active, and wait for a health check in flight. */
  async stopTimers(): Promise<void> {
    this.stopHealthPolling();
    await this.healthSettled();
  }
}
