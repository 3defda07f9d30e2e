// Composition root: the only place that reads config and wires the parts together.
// Everything else receives its dependencies explicitly.
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { subscribeHooks } from "../hooks";
import { Metrics } from "./admin/metrics";
import { type Clock, systemClock } from "./clock";
import { type ZenflowConfig, parseConfig } from "./config";
import { Engine, type EngineTuning } from "./engine";
import { createErpPort } from "./erp-port";
import { AUTH_ERROR_CODES, AuthError, NetworkError, TimeoutError, describeError } from "./errors";
import { assessHealth, queueCounts } from "./health";
import { History } from "./history";
import type { ActionResult, ErpPlugin, HealthReport, PluginContext } from "./host-api";
import { Binder } from "./id-map/binder";
import { Leases } from "./leases";
import { EventRecorder } from "./outbox/event-recorder";
import { EventLog } from "./outbox/event-log";
import { ORDER_KIND, mergeOrderPayloads } from "./sync/export-orders";
import { JobQueue } from "./outbox/queue";
import type { Shared } from "./shared";
import { StateStore } from "./state";
import { Priority } from "./zenflow/client";

export interface PluginOptions extends Partial<EngineTuning> {
  clock?: Clock;
  /** Identifies this process in leases and logs; default host:pid:random. */
  workerId?: string;
}

export interface ZenflowPlugin extends ErpPlugin {
  health(): Promise<HealthReport>;
  actions: NonNullable<ErpPlugin["actions"]>;
  /** For tests, the CLI and benchmarks: the live parts of an active plugin. */
  runtime(): { shared: Shared; engine: Engine | null; config: ZenflowConfig | null; configProblem: string | null } | null;
}

const DEFAULT_TUNING: EngineTuning = {
  pollMs: 1000,
  leaseMs: 60_000,
  schedulerTickMs: 5000,
  schedulerLeaseMs: 60_000,
  boundaryGuardMs: 250,
  autoStart: true,
};

export function createZenflowPlugin(options: PluginOptions = {}): ZenflowPlugin {
  const clock = options.clock ?? systemClock;
  const tuning: EngineTuning = { ...DEFAULT_TUNING, ...stripUndefined(options) };

  let ctx: PluginContext | null = null;
  let shared: Shared | null = null;
  let engine: Engine | null = null;
  let config: ZenflowConfig | null = null;
  let configProblem: string | null = "The plugin is not active.";
  let unsubscribe: Array<() => void> = [];
  // Config changes are applied one at a time, in order.
  let applying: Promise<void> = Promise.resolve();

  function applyConfig(values: Record<string, unknown>): Promise<void> {
    applying = applying.then(async () => {
      if (!ctx || !shared) return;
      const parsed = parseConfig(values ?? {});
      if (engine) {
        const old = engine;
        engine = null;
        await old.stop();
      }
      if (!parsed.ok) {
        config = null;
        configProblem = parsed.reason;
        ctx.log.warn({ reason: parsed.reason }, "ZenFlow plugin is not configured; waiting for settings");
        return;
      }
      config = parsed.config;
      configProblem = null;
      const next = new Engine(parsed.config, shared, tuning, ctx.signal);
      try {
        await next.start();
        engine = next;
        shared.recorder.onRecorded = () => engine?.notify();
        ctx.log.info({ baseUrl: parsed.config.baseUrl, stockSource: parsed.config.stockSource }, "ZenFlow sync started");
      } catch (err) {
        await next.stop();
        configProblem = `Could not start the sync: ${describeError(err)}`;
        ctx.log.error({ err: describeError(err) }, "ZenFlow sync could not start");
      }
    });
    return applying;
  }

  const plugin: ZenflowPlugin = {
    async activate(c: PluginContext): Promise<void> {
      ctx = c;
      const db = c.db;
      const workerId = options.workerId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;
      const outbox = new JobQueue({ db, table: "zenflow_outbox", clock, workerId, leaseMs: tuning.leaseMs });
      const inbox = new JobQueue({ db, table: "zenflow_inbox", clock, workerId, leaseMs: tuning.leaseMs });
      const eventLog = new EventLog({ db, clock, mergers: { [ORDER_KIND]: mergeOrderPayloads } });
      const recorder = new EventRecorder({ log: eventLog, logger: c.log });
      shared = {
        pluginId: c.id,
        workerId,
        db,
        clock,
        log: c.log,
        erp: createErpPort(c.erp),
        outbox,
        inbox,
        binder: new Binder(db, clock),
        history: new History(db, clock),
        state: new StateStore(db, clock),
        leases: new Leases(db, clock),
        eventLog,
        recorder,
        metrics: new Metrics(),
        lastSuccessAt: null,
      };
      // Hooks record work even while unconfigured: orders placed before the admin enters
      // the key are sent once the key is there.
      unsubscribe.push(subscribeHooks(c.events, { pluginId: c.id, recorder, log: c.log, config: () => config }));
      unsubscribe.push(c.config.onChange((values) => applyConfig(values)));
      // Never throws for missing or wrong config: health() reports it instead.
      try {
        await applyConfig(c.config.get());
      } catch (err) {
        configProblem = `Could not read the settings: ${describeError(err)}`;
      }
    },

    async deactivate(): Promise<void> {
      await applying.catch(() => undefined);
      if (engine) {
        const old = engine;
        engine = null;
        await old.stop();
      }
      // Hooks stay subscribed until the host removes them: events that arrive during
      // deactivation are still written to the outbox.
      if (shared) {
        await shared.recorder.flush().catch(() => undefined);
        shared.recorder.stop();
      }
      for (const off of unsubscribe.splice(0)) {
        try {
          off();
        } catch {
          /* the host may already have removed it */
        }
      }
      configProblem = "The plugin is not active.";
    },

    async uninstall(): Promise<void> {
      // ZenFlow documents no endpoint to delete a webhook subscription: the README tells
      // the admin to remove it in ZenFlow's dashboard. The host drops our tables if asked.
    },

    async health(): Promise<HealthReport> {
      if (!shared) return { status: "down", message: "The ZenFlow plugin is not active in this ERP process." };
      try {
        const [budget, counts, scopes] = await Promise.all([
          engine ? engine.budget.snapshot() : Promise.resolve(null),
          queueCounts(shared.db),
          missingScopes(shared),
        ]);
        return assessHealth({
          now: clock.now(),
          configProblem,
          budget,
          counts,
          missingScopes: scopes,
          lastSuccessAt: budget?.lastSuccessAt ?? shared.lastSuccessAt,
        });
      } catch (err) {
        return { status: "down", message: `The plugin cannot read its tables in the ERP database: ${describeError(err)}` };
      }
    },

    actions: {
      "test-connection": async (): Promise<ActionResult> => {
        if (!engine) return { ok: false, message: configProblem ?? "The plugin is not configured." };
        return testConnection(engine, shared!);
      },
    },

    runtime() {
      return shared ? { shared, engine, config, configProblem } : null;
    },
  };
  return plugin;
}

async function missingScopes(shared: Shared): Promise<string[]> {
  const rows = await shared
    .db("zenflow_outbox")
    .distinct("last_error")
    .where({ status: "pending", last_error_code: "insufficient_scope" })
    .limit(10);
  const scopes = new Set<string>();
  for (const r of rows) {
    const m = /scope\s+([\w:]+)/.exec(String(r.last_error ?? ""));
    if (m?.[1]) scopes.add(m[1]);
  }
  return [...scopes];
}

async function testConnection(engine: Engine, shared: Shared): Promise<ActionResult> {
  try {
    // The admin asked explicitly: lift an auth pause for this probe (a still-bad key
    // pauses again at once). Rate-limit pauses stay in force.
    await engine.budget.clearAuthPause();
    // The cheapest call that proves the key: one order, at the highest priority.
    await engine.client.orders.list({ page: 1, limit: 1 }, Priority.order);
    const released = await shared.outbox.release(AUTH_ERROR_CODES);
    engine.notify();
    if (released)
      return {
        ok: true,
        message: `Connected to ZenFlow at ${engine.config.baseUrl}; the API key is valid. ${released} waiting change${released === 1 ? " is" : "s are"} being sent now.`,
      };
    return { ok: true, message: `Connected to ZenFlow at ${engine.config.baseUrl}; the API key is valid and can read orders.` };
  } catch (err) {
    if (err instanceof AuthError) {
      const what: Record<string, string> = {
        missing_api_key: "ZenFlow did not receive an API key.",
        invalid_api_key: "ZenFlow does not recognise this API key. Copy it again from ZenFlow (Settings > API Keys).",
        expired_api_key: "This API key has expired. Create a new key in ZenFlow and enter it here.",
        revoked_api_key: "This API key was revoked in ZenFlow. Create a new key and enter it here.",
        insufficient_scope: `The API key is valid but lacks the scope ${err.scope ?? "read:orders"}. Edit the key's scopes in ZenFlow.`,
        ip_not_allowed: "ZenFlow refuses requests from this server's IP address. Add it to the key's IP allow-list in ZenFlow.",
      };
      return { ok: false, message: what[err.zenflowCode] ?? err.message, details: { code: err.zenflowCode } };
    }
    if (err instanceof NetworkError || err instanceof TimeoutError) {
      return {
        ok: false,
        message: `Cannot reach ZenFlow at ${engine.config.baseUrl}: ${describeError(err)}. Check the address and this server's internet access.`,
        details: { code: err.code },
      };
    }
    return { ok: false, message: `ZenFlow answered unexpectedly: ${describeError(err)}` };
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
