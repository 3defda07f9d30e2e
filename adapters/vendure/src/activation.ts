// One activation of the plugin in one Vendure process: its PluginContext (fresh routers and
// AbortSignal each time), activate/deactivate never overlapping, deactivate bounded by the
// contract's 30 s deadline, and health/actions with their own deadlines.
import express from "express";
import type { Knex } from "knex";
import type { ActionResult, ErpApi, ErpPlugin, HealthReport, PluginContext, PluginLogger, PluginManifest } from "zenflow-erp-plugin/host-api";
import type { ConfigStore } from "./config-store";
import { withDeadline } from "./deadline";
import type { EventHub } from "./event-hub";
import type { RouterSlot } from "./router-slot";

const HEALTH_STATUSES = new Set(["ok", "degraded", "down", "unconfigured"]);

export interface ActivationDeps {
  plugin: ErpPlugin;
  manifest: PluginManifest;
  db: Knex;
  erp: ErpApi;
  hub: EventHub;
  store: ConfigStore;
  log: PluginLogger;
  publicUrl: string;
  /** Null in the worker process, which serves no HTTP. */
  slots: { public: RouterSlot; admin: RouterSlot } | null;
  deactivateTimeoutMs: number;
}

export class PluginActivation {
  private active = false;
  private ctx: PluginContext | null = null;
  private controller = new AbortController();
  private readonly configSubs = new Set<() => void>();
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly d: ActivationDeps) {}

  get isActive(): boolean {
    return this.active;
  }

  activate(): Promise<void> {
    return this.serial(async () => {
      if (this.active) return;
      const { d } = this;
      this.controller = new AbortController();
      const ctx: PluginContext = {
        id: d.manifest.id,
        version: d.manifest.version,
        db: d.db,
        events: { on: (name, handler) => d.hub.on(name, handler) },
        http: { public: express.Router(), admin: express.Router(), publicUrl: d.publicUrl },
        config: {
          get: () => d.store.get(),
          onChange: (listener) => {
            const off = d.store.onChange(listener);
            const entry = () => {
              off();
              this.configSubs.delete(entry);
            };
            this.configSubs.add(entry);
            return entry;
          },
        },
        erp: d.erp,
        log: d.log,
        signal: this.controller.signal,
      };
      this.ctx = ctx;
      // Routers go live with the handlers, so the plugin serves as soon as it registered routes.
      d.slots?.public.mount(ctx.http.public);
      d.slots?.admin.mount(ctx.http.admin);
      try {
        await d.plugin.activate(ctx);
      } catch (err) {
        this.unhook();
        throw err;
      }
      this.active = true;
      d.log.info({ plugin: d.manifest.id, version: d.manifest.version }, "ZenFlow plugin activated");
    });
  }

  deactivate(): Promise<void> {
    return this.serial(async () => {
      if (!this.active) return;
      const { d } = this;
      this.controller.abort(new Error("the plugin is being deactivated"));
      try {
        // Events keep reaching the handlers while deactivate() runs (contract section 8).
        await withDeadline(Promise.resolve().then(() => d.plugin.deactivate()), d.deactivateTimeoutMs, `${d.manifest.id}.deactivate()`);
      } catch (err) {
        d.log.error({ err }, "ZenFlow deactivate() failed or ran out of time; unhooking it anyway");
      }
      this.unhook();
      this.active = false;
      d.log.info({ plugin: d.manifest.id }, "ZenFlow plugin deactivated");
    });
  }

  async health(): Promise<HealthReport> {
    if (!this.active) return { status: "down", message: "The ZenFlow plugin is not active in this Vendure process." };
    const { plugin } = this.d;
    if (!plugin.health) return { status: "ok", message: "the plugin reports no health" };
    try {
      const r = await withDeadline(Promise.resolve().then(() => plugin.health!()), 10_000, "health()");
      return r && HEALTH_STATUSES.has(r.status) ? r : { status: "down", message: "health() returned an invalid report" };
    } catch (err) {
      return { status: "down", message: `health() failed: ${(err as Error).message}` };
    }
  }

  async runAction(id: string, input?: unknown): Promise<ActionResult> {
    const { manifest, plugin, log } = this.d;
    if (!manifest.actions.some((a) => a.id === id)) return { ok: false, message: `unknown action "${id}"` };
    const fn = plugin.actions?.[id];
    if (typeof fn !== "function") return { ok: false, message: `the plugin does not implement action "${id}"` };
    if (!this.active || !this.ctx) return { ok: false, message: "the plugin is not active" };
    const ctx = this.ctx;
    try {
      const r = await withDeadline(Promise.resolve().then(() => fn.call(plugin.actions, ctx, input)), 60_000, `action ${id}`);
      return r && typeof r.ok === "boolean" && typeof r.message === "string" ? r : { ok: false, message: `action "${id}" returned an invalid result` };
    } catch (err) {
      log.warn({ err, action: id }, "ZenFlow action failed");
      return { ok: false, message: (err as Error).message || String(err) };
    }
  }

  private unhook(): void {
    this.d.slots?.public.unmount();
    this.d.slots?.admin.unmount();
    this.d.hub.clear();
    for (const off of [...this.configSubs]) off();
  }

  private serial<T>(step: () => Promise<T>): Promise<T> {
    const run = this.chain.then(step);
    this.chain = run.catch(() => undefined);
    return run;
  }
}
