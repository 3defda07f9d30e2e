// Everything that depends on a valid config: the ZenFlow client, the shared budget and its
// limiter, the two workers and the scheduled tasks (one file each in runtime/tasks).
// Rebuilt when the config changes, so the config never changes inside an engine.
import { RequestLimiter } from "../budget/limiter";
import { SharedBudget, budgetLimitsKey } from "../budget/shared-budget";
import type { ZenflowConfig } from "../core/config";
import { AUTH_ERROR_CODES } from "../core/errors";
import { keyIdOf } from "../core/key-id";
import { RequestLog } from "../core/request-log";
import type { EngineTuning } from "../core/tuning";
import { Worker } from "../outbox/worker";
import { type SendPlan, computeSendPlan } from "../admin/send-plan";
import { createOrderStateApplier } from "../sync/apply-order-state";
import { createStockApplier } from "../sync/apply-stock";
import { createOrderExporter } from "../sync/export-orders";
import { PRODUCTS_PER_REQUEST, createProductExporter } from "../sync/export-products";
import { STOCK_ROWS_PER_REQUEST, createStockExporter } from "../sync/export-stock";
import type { BulkRunDeps } from "../sync/stock-sync";
import { createZenflowClient, type ZenflowClient } from "../zenflow/client";
import { createHttp } from "../zenflow/http";
import { createTransport } from "../zenflow/transport";
import type { Activation } from "./activation";
import { Scheduler } from "./scheduler";
import { housekeepingTask } from "./tasks/housekeeping";
import { importCatalogTask } from "./tasks/import-catalog";
import { orderStatusBackstopTask } from "./tasks/order-status-backstop";
import { reconcileTasks } from "./tasks/reconcile";
import { syncStockTask } from "./tasks/sync-stock";
import { stockDriftTask } from "./tasks/stock-drift";
import { planTask } from "./tasks/plan";
import { WEBHOOK_SUBSCRIPTION_TASK, webhookSubscriptionTask } from "./tasks/webhook-subscription";

const PLAN_CACHE_MS = 15_000;
/** Jobs per kind health's plan classifies one by one (the rest is estimated in full batches). */
const HEALTH_PLAN_JOBS = 200;

export class Engine {
  readonly budget: SharedBudget;
  readonly limiter: RequestLimiter;
  readonly client: ZenflowClient;
  readonly worker: Worker;
  /** Applies stored ZenFlow webhooks to the ERP (needs no ZenFlow budget). */
  readonly inboxWorker: Worker;
  readonly scheduler: Scheduler;
  private readonly abort = new AbortController();

  constructor(
    readonly config: ZenflowConfig,
    private readonly parts: Activation,
    private readonly tuning: EngineTuning,
    hostSignal: AbortSignal,
  ) {
    const { db, clock, log, metrics, erp, binder, outbox, inbox, eventLog, state, history, leases } = parts;
    const signal = AbortSignal.any([hostSignal, this.abort.signal]);
    this.budget = new SharedBudget({
      // Between a request and the wire: ahead of the plugin's background statements.
      db: parts.urgentDb,
      keyId: keyIdOf(config.apiKey),
      limits: { perMinute: config.rateLimitPerMinute, perHour: config.rateLimitPerHour, perDay: config.rateLimitPerDay },
      clock,
      boundaryGuardMs: tuning.boundaryGuardMs,
      maxPauseMs: config.maxServerDelaySeconds * 1000,
    });
    this.limiter = new RequestLimiter({ budget: this.budget, clock, maxConcurrent: config.maxConcurrentRequests, signal });
    const http = createHttp({
      baseUrl: config.baseUrl,
      apiKey: config.apiKey,
      timeoutMs: config.requestTimeoutMs,
      maxDelayMs: config.maxServerDelaySeconds * 1000,
      clock,
      signal,
      onResponse: (info) => {
        metrics.requests.inc({ endpoint: info.endpoint, outcome: info.status ? String(info.status) : (info.error?.code ?? "error") });
        metrics.latency.observe({ endpoint: info.endpoint }, info.durationMs / 1000);
        if (info.status === 429) metrics.rateLimited.inc();
        if (info.status && info.status < 400) parts.lastSuccessAt = clock.now();
      },
    });
    const client = createZenflowClient(
      createTransport({ http, limiter: this.limiter, budget: this.budget, clock, log, requests: new RequestLog(db) }),
    );
    this.client = client;
    const retry = {
      maxAttempts: config.maxAttempts,
      maxDeferrals: tuning.maxDeferrals,
      leaseMs: tuning.leaseMs,
      backoff: tuning.backoff,
      pollMs: tuning.pollMs,
    };
    const orderClaim = Math.max(100, config.orderBatchSize * 4);
    this.worker = new Worker({
      name: "outbox",
      queue: outbox,
      eventLog,
      handlers: [
        {
          ...createOrderExporter({ client, binder, erp, config, clock, log: eventLog }),
          claimLimit: orderClaim,
          fullBatch: config.orderBatchSize,
        },
        { ...createStockExporter({ client, binder, config }), claimLimit: 500, fullBatch: STOCK_ROWS_PER_REQUEST },
        { ...createProductExporter({ client, binder, erp, config }), claimLimit: 500, fullBatch: PRODUCTS_PER_REQUEST },
      ],
      history,
      clock,
      log,
      gate: this.budget,
      claimLimit: orderClaim,
      batchWindowMs: config.batchWindowMs,
      holdPartialMs: config.batchHoldSeconds * 1000,
      metrics,
      ...retry,
    });
    this.inboxWorker = new Worker({
      name: "inbox",
      queue: inbox,
      handlers: [
        createOrderStateApplier({ erp, binder, leases, workerId: parts.workerId, config }),
        createStockApplier({ erp, binder, config }),
      ],
      history,
      clock,
      log,
      claimLimit: 100,
      batchWindowMs: 0,
      metrics,
      ...retry,
    });
    this.scheduler = new Scheduler({
      leases: leases,
      state: state,
      clock,
      log,
      holderId: parts.workerId,
      tickMs: tuning.schedulerTickMs,
      leaseMs: tuning.schedulerLeaseMs,
    });
    const bulk: BulkRunDeps = { erp, binder, client, state, log: eventLog, clock, config, db };
    for (const task of [
      ...reconcileTasks({ outbox, erp, binder, log: eventLog, state, clock, config, logger: log, onQueued: () => this.notify() }),
      housekeepingTask({ db, clock, log, retentionDays: config.retentionDays }),
      webhookSubscriptionTask({ client, state, config, publicUrl: parts.publicUrl, clock, log }),
      orderStatusBackstopTask({ binder, client, erp, inbox, clock, config, log, onQueued: () => this.notifyInbox() }),
      importCatalogTask(bulk, () => this.notify()),
      syncStockTask(bulk, () => this.notify()),
      stockDriftTask(bulk),
      planTask({ state, clock, plan: () => this.plan() }),
    ])
      this.scheduler.add(task);
  }

  /** What the next sync will do (admin/send-plan.ts): reads the queue, the ERP and the budget; sends nothing. */
  async plan(opts: { jobsPerKind?: number } = {}): Promise<SendPlan> {
    return computeSendPlan({
      worker: this.worker,
      queue: this.parts.outbox,
      eventLog: this.parts.eventLog,
      budget: await this.budget.snapshot(),
      guardMs: this.budget.guardMs,
      now: this.parts.clock.now(),
      ...opts,
    });
  }

  private planCache: { at: number; pending: number; plan: Promise<SendPlan>; settled: boolean } | null = null;

  /**
   * The plan for health(): health may be polled often, and a plan reads up to
   * HEALTH_PLAN_JOBS records per kind from the ERP. Reused while the number waiting is the
   * same (up to 15 s); one computation at a time.
   */
  cachedPlan(pending: number): Promise<SendPlan> {
    const now = this.parts.clock.now();
    const c = this.planCache;
    if (c && (!c.settled || (c.pending === pending && now - c.at < PLAN_CACHE_MS))) return c.plan;
    const entry = { at: now, pending, plan: this.plan({ jobsPerKind: HEALTH_PLAN_JOBS }), settled: false };
    this.planCache = entry;
    entry.plan.then(
      () => (entry.settled = true),
      () => {
        if (this.planCache === entry) this.planCache = null;
      },
    );
    return entry.plan;
  }

  notifyInbox(): void {
    this.inboxWorker.notify();
  }

  async start(): Promise<void> {
    await this.budget.ensureRow();
    // For the CLI, which reads the tables without the host's settings.
    await this.parts.state.set(budgetLimitsKey(this.budget.keyId), this.budget.limits);
    // A new config may carry a fixed key: work parked by auth failures goes now.
    await this.parts.outbox.release(AUTH_ERROR_CODES);
    if (!this.tuning.autoStart) return;
    this.worker.start();
    this.inboxWorker.start();
    this.scheduler.start();
    // A new config (key, URL, stock source) may need another subscription: check now, not in an hour.
    void this.scheduler.runTask(WEBHOOK_SUBSCRIPTION_TASK).catch(() => undefined);
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.allSettled([this.scheduler.stop(), this.worker.stop(), this.inboxWorker.stop()]);
    await this.limiter.stop();
  }

  notify(): void {
    this.worker.notify();
  }
}
