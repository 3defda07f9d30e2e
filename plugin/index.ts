// Composition root: the only place that reads config and wires the parts together.
// Everything else receives its dependencies explicitly.
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { subscribeHooks } from "../hooks";
import { Metrics } from "./admin/metrics";
import { type Clock, systemClock } from "./core/clock";
import { type ZenflowConfig, parseConfig } from "./core/config";
import { Engine } from "./runtime/engine";
import type { EngineTuning } from "./core/tuning";
import { Permits, defaultShare, poolSizeOf, shareOfPool } from "./core/db-share";
import { createErpPort } from "./core/erp-port";
import { describeError } from "./core/errors";
import { type ActionDeps, actions } from "./admin/actions";
import { mountAdminRoutes } from "./admin/routes";
import { mountWebhookRoutes } from "./webhooks/router";
import type { RuntimeView } from "./runtime/view";
import { assessHealth, queueCounts } from "./admin/health";
import { readProgress } from "./core/runs";
import { missingScopes } from "./admin/queries";
import { History } from "./core/history";
import type { ActionResult, ErpPlugin, HealthReport, PluginContext } from "./core/host-api";
import { Binder } from "./id-map/binder";
import { Leases } from "./core/leases";
import { EventRecorder } from "./outbox/event-recorder";
import { EventLog } from "./outbox/event-log";
import { ORDER_KIND, mergeOrderPayloads, describeOrderArrival } from "./jobs/order-job";
import { JobQueue } from "./outbox/queue";
import type { Activation } from "./runtime/activation";
import { KvStore } from "./core/kv-store";
import { WEBHOOK_PROBLEM_KEY, resealForNewKey } from "./webhooks/registration";
import { Table } from "./core/tables";

export interface PluginOptions extends Partial<EngineTuning> {
  clock?: Clock;
  /** Logged at every activation (e.g. a malformed ZENFLOW_TUNING that was ignored). */
  startupWarning?: string;
  /** Identifies this process in leases and logs; default host:pid:random. */
  workerId?: string;
}

export interface ZenflowPlugin extends ErpPlugin {
  health(): Promise<HealthReport>;
  actions: NonNullable<ErpPlugin["actions"]>;
  /** For tests and benchmarks: the live parts of an active plugin. */
  runtime(): RuntimeView | null;
}

const DEFAULT_TUNING: EngineTuning = {
  pollMs: 1000,
  // Short leases, renewed every third of their length while the work runs: the work of a
  // process that died is taken over within about 15 s.
  leaseMs: 15_000,
  schedulerTickMs: 3000,
  schedulerLeaseMs: 12_000,
  boundaryGuardMs: 250,
  autoStart: true,
  debounceMs: { product: 1500, stock: 500 },
  dbConnections: 0,
  statementTimeoutMs: 30_000,
  erpCallTimeoutMs: 30_000,
  maxDeferrals: 200,
};

export function createZenflowPlugin(options: PluginOptions = {}): ZenflowPlugin {
  const clock = options.clock ?? systemClock;
  const { clock: _clock, workerId: _workerId, startupWarning: _warning, ...tuningOptions } = options;
  const tuning: EngineTuning = { ...DEFAULT_TUNING, ...stripUndefined(tuningOptions) };

  let ctx: PluginContext | null = null;
  let parts: Activation | null = null;
  let engine: Engine | null = null;
  let config: ZenflowConfig | null = null;
  /** The last valid API key, so webhook secrets sealed under it can be re-sealed when it changes. */
  let lastApiKey: string | null = null;
  let configProblem: string | null = "The plugin is not active.";
  let unsubscribe: Array<() => void> = [];
  // Config changes are applied one at a time, in order.
  let applying: Promise<void> = Promise.resolve();

  function applyConfig(values: Record<string, unknown>): Promise<void> {
    applying = applying.then(async () => {
      if (!ctx || !parts) return;
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
      if (lastApiKey && lastApiKey !== parsed.config.apiKey)
        await resealForNewKey(parts.state, lastApiKey, parsed.config.apiKey, clock.now()).catch((err) =>
          ctx?.log.warn({ err: describeError(err) }, "could not re-seal the webhook secrets under the new API key"),
        );
      lastApiKey = parsed.config.apiKey;
      const next = new Engine(parsed.config, parts, tuning, ctx.signal);
      try {
        await next.start();
        engine = next;
        parts.recorder.onRecorded = () => engine?.notify();
        ctx.log.info({ baseUrl: parsed.config.baseUrl, stockSource: parsed.config.stockSource }, "ZenFlow sync started");
      } catch (err) {
        await next.stop();
        configProblem = `Could not start the sync: ${describeError(err)}`;
        ctx.log.error({ err: describeError(err) }, "ZenFlow sync could not start");
      }
    });
    return applying;
  }

  function actionDeps(parts: Activation): ActionDeps {
    return { ...parts, sync: () => engine, configProblem: () => configProblem };
  }

  const plugin: ZenflowPlugin = {
    async activate(c: PluginContext): Promise<void> {
      ctx = c;
      const share = tuning.dbConnections || defaultShare(poolSizeOf(c.db));
      const permits = new Permits(share);
      const acquireTimeoutMs = tuning.statementTimeoutMs;
      const gate = { permits, acquireTimeoutMs, statementTimeoutMs: tuning.statementTimeoutMs };
      const db = shareOfPool(c.db, gate);
      const urgentDb = shareOfPool(c.db, { ...gate, urgent: true });
      const workerId = options.workerId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;
      const outbox = new JobQueue({ db, urgentDb, table: Table.outbox, activeKey: true, clock, workerId, leaseMs: tuning.leaseMs });
      const inbox = new JobQueue({ db, urgentDb, table: Table.inbox, activeKey: false, clock, workerId, leaseMs: tuning.leaseMs });
      const eventLog = new EventLog({
        db,
        appendDb: c.db,
        clock,
        mergers: { [ORDER_KIND]: mergeOrderPayloads },
        debounceMs: tuning.debounceMs,
        arrivals: { [ORDER_KIND]: describeOrderArrival },
      });
      const recorder = new EventRecorder({ log: eventLog, logger: c.log });
      const p: Activation = {
        pluginId: c.id,
        workerId,
        publicUrl: c.http.publicUrl,
        db,
        clock,
        log: c.log,
        erp: createErpPort(c.erp, { permits, callTimeoutMs: tuning.erpCallTimeoutMs, acquireTimeoutMs }),
        permits,
        urgentDb,
        outbox,
        inbox,
        binder: new Binder(db, clock),
        history: new History(db, clock),
        state: new KvStore(db, clock),
        leases: new Leases(urgentDb, clock),
        eventLog,
        recorder,
        metrics: new Metrics(),
        lastSuccessAt: null,
      };
      if (options.startupWarning) c.log.warn(options.startupWarning);
      parts = p;
      mountAdminRoutes(c.http.admin, {
        ...p,
        health: () => plugin.health(),
        budget: () => (engine ? engine.budget.snapshot() : Promise.resolve(null)),
        plan: () => (engine ? engine.plan() : Promise.resolve(null)),
        recentPlan: (pending) => (engine ? engine.cachedPlan(pending) : Promise.resolve(null)),
        lastSuccessAt: () => p.lastSuccessAt,
        // The contract names no ERP time zone: the ERP process's own (TZ) is the best guess.
        timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone,
        wake: () => {
          engine?.notify();
          engine?.notifyInbox();
        },
        startTask: (name) => void engine?.scheduler.runTask(name, false).catch(() => undefined),
      });
      mountWebhookRoutes(c.http.public, { ...p, config: () => config, notifyInbox: () => engine?.notifyInbox() });
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
      if (parts) {
        await parts.recorder.flush().catch(() => undefined);
        parts.recorder.stop();
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
      if (!parts) return { status: "down", message: "The ZenFlow plugin is not active in this ERP process." };
      try {
        const [budget, counts, scopes, webhookProblem, stockSync] = await Promise.all([
          engine ? engine.budget.snapshot() : Promise.resolve(null),
          queueCounts(parts.db),
          missingScopes(parts.db),
          engine ? parts.state.get(WEBHOOK_PROBLEM_KEY) : Promise.resolve(null),
          readProgress(parts.state, "sync-stock"),
        ]);
        // While something waits: when it will all be through (a plan that fails is left out, never fatal).
        const plan = engine && counts.pending > 0 ? await engine.cachedPlan(counts.pending).catch(() => null) : null;
        return assessHealth({
          now: clock.now(),
          configProblem,
          budget,
          counts,
          missingScopes: scopes,
          webhookProblem,
          stockSyncStopped: stockSync?.status === "stopped" ? (stockSync.message ?? "stopped") : null,
          lastSuccessAt: budget?.lastSuccessAt ?? parts.lastSuccessAt,
          plan,
        });
      } catch (err) {
        return { status: "down", message: `The plugin cannot read its tables in the ERP database: ${describeError(err)}` };
      }
    },

    actions: Object.fromEntries(
      Object.entries(actions).map(([id, action]) => [
        id,
        async (_ctx: PluginContext, input?: unknown): Promise<ActionResult> => {
          if (!parts) return { ok: false, message: "The ZenFlow plugin is not active in this ERP process." };
          try {
            return await action(actionDeps(parts), input);
          } catch (err) {
            return { ok: false, message: `The action failed: ${describeError(err)}` };
          }
        },
      ]),
    ),

    runtime() {
      return parts ? { parts: parts, engine, config } : null;
    },
  };
  return plugin;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
