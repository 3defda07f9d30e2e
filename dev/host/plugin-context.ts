// One activation of a plugin and the PluginContext it receives (contract section 4). Each
// activation gets fresh routers and a fresh AbortSignal; closing it removes everything the
// plugin registered through that context.
import express from "express";
import type { Knex } from "knex";
import type { ErpApi, ErpEventName, PluginContext, PluginLogger, PluginManifest } from "../../plugin/core/host-api";
import type { ConfigStore } from "./config-store";
import type { EventBus, EventHandler } from "./events";

export interface ContextDeps {
  manifest: PluginManifest;
  db: Knex;
  bus: EventBus;
  config: ConfigStore;
  erp: ErpApi;
  log: PluginLogger;
  hostLog: PluginLogger;
  publicUrl: string;
}

export class Activation {
  readonly ctx: PluginContext;
  /** True once activate() was called with this context: a context is never activated twice. */
  used = false;
  private closed = false;
  private readonly controller = new AbortController();
  private readonly eventSubs = new Set<() => void>();
  private readonly configSubs = new Set<() => void>();

  constructor(deps: ContextDeps) {
    const { manifest, bus, config, hostLog } = deps;
    const hooks = new Set<string>(manifest.hooks);
    const track = (set: Set<() => void>, unsubscribe: () => void): (() => void) => {
      const entry = () => {
        unsubscribe();
        set.delete(entry);
      };
      set.add(entry);
      return entry;
    };
    this.ctx = {
      id: manifest.id,
      version: manifest.version,
      db: deps.db,
      events: {
        on: <E extends ErpEventName>(name: E, handler: (payload: never, meta: never) => Promise<void> | void) => {
          if (!hooks.has(name)) {
            // Contract section 8: events not listed in the manifest's hooks are not delivered.
            hostLog.debug({ plugin: manifest.id, event: name }, `event ${name} is not in the manifest's hooks: handler ignored`);
            return () => undefined;
          }
          if (this.closed) {
            hostLog.warn({ plugin: manifest.id, event: name }, "events.on() after deactivation: handler ignored");
            return () => undefined;
          }
          return track(this.eventSubs, bus.subscribe(name, handler as unknown as EventHandler));
        },
      },
      http: { public: express.Router(), admin: express.Router(), publicUrl: deps.publicUrl },
      config: {
        get: () => config.get(),
        onChange: (listener) => {
          if (this.closed) return () => undefined;
          return track(this.configSubs, config.onChange(listener));
        },
      },
      erp: deps.erp,
      log: deps.log,
      signal: this.controller.signal,
    };
  }

  /** Deactivation starts: the plugin's signal fires, events keep flowing until close(). */
  abort(): void {
    if (!this.controller.signal.aborted) this.controller.abort(new Error("plugin is being deactivated"));
  }

  /** After deactivate(): no more events or config changes reach this context. */
  close(): void {
    this.abort();
    this.closed = true;
    for (const un of [...this.eventSubs]) un();
    for (const un of [...this.configSubs]) un();
  }
}
