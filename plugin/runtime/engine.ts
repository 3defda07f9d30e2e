// Everything that depends on a valid config: the ZenFlow client, the shared budget and
// its limiter, the outbox worker and the scheduled tasks. Rebuilt when the config changes.
import type { ZenflowConfig } from "../core/config";
import { keyIdOf } from "../core/key-id";
import { RequestLimiter } from "../budget/limiter";
import { SharedBudget, budgetLimitsKey } from "../budget/shared-budget";
import type { BackoffPolicy } from "../core/backoff";
import { Worker } from "../outbox/worker";
import { Scheduler } from "./scheduler";
import { housekeepingTask } from "./tasks/housekeeping";
import { createOrderExporter } from "../sync/export-orders";
import { reconcileOrders } from "../sync/reconcile-orders";
import { createOrderStateApplier } from "../sync/apply-order-state";
import { createStockApplier } from "../sync/apply-stock";
import { backstop } from "../sync/backstop";
import { runCatalogImport } from "../sync/export-catalog";
import { createProductExporter } from "../sync/export-products";
import { createStockExporter } from "../sync/export-stock";
import { runStockSync } from "../sync/stock-sync";
import { clearRequest, pendingRequest } from "../core/runs";
import { WEBHOOK_PROBLEM_KEY, ensureSubscription } from "../webhooks/registration";
import { AUTH_ERROR_CODES, AuthError, describeError } from "../core/errors";
import { createZenflowClient, type ZenflowClient } from "../zenflow/client";
import { createHttp } from "../zenflow/http";
import { createTransport } from "../zenflow/transport";
import type { Shared } from "./activation";

export interface EngineTuning {
  pollMs: number;
  leaseMs: number;
  schedulerTickMs: number;
  schedulerLeaseMs: number;
  boundaryGuardMs: number;
  backoff?: BackoffPolicy;
  /** Start the worker and scheduler loops (tests may drive runOnce themselves). */
  autoStart: boolean;
  /** Per job kind: wait before a new job is due, so bursts of edits coalesce (orders: none). */
  debounceMs: Record<string, number>;
}

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
    private readonly shared: Shared,
    private readonly tuning: EngineTuning,
    hostSignal: AbortSignal,
  ) {
    const { db, clock, log, metrics } = shared;
    const signal = AbortSignal.any([hostSignal, this.abort.signal]);
    this.budget = new SharedBudget({
      db,
      keyId: keyIdOf(config.apiKey),
      limits: { perMinute: config.rateLimitPerMinute, perHour: config.rateLimitPerHour, perDay: config.rateLimitPerDay },
      clock,
      boundaryGuardMs: tuning.boundaryGuardMs,
    });
    this.limiter = new RequestLimiter({ budget: this.budget, clock, maxConcurrent: config.maxConcurrentRequests, signal });
    const http = createHttp({
      baseUrl: config.baseUrl,
      apiKey: config.apiKey,
      timeoutMs: config.requestTimeoutMs,
      clock,
      signal,
      onResponse: (info) => {
        metrics.requests.inc({ endpoint: info.endpoint, outcome: info.status ? String(info.status) : (info.error?.code ?? "error") });
        metrics.latency.observe({ endpoint: info.endpoint }, info.durationMs / 1000);
        if (info.status === 429) metrics.rateLimited.inc();
        if (info.status && info.status < 400) shared.lastSuccessAt = clock.now();
      },
    });
    this.client = createZenflowClient(createTransport({ http, limiter: this.limiter, budget: this.budget, clock, log }));
    const orderExporter = createOrderExporter({
      client: this.client,
      binder: shared.binder,
      erp: shared.erp,
      config: () => this.config,
      clock,
      log: shared.eventLog,
    });
    this.worker = new Worker({
      name: "outbox",
      queue: shared.outbox,
      eventLog: shared.eventLog,
      handlers: [
        { ...orderExporter, claimLimit: Math.max(100, config.orderBatchSize * 4) },
        { ...createStockExporter({ client: this.client, binder: shared.binder, config: () => this.config }), claimLimit: 500 },
        {
          ...createProductExporter({ client: this.client, binder: shared.binder, erp: shared.erp, config: () => this.config }),
          claimLimit: 500,
        },
      ],
      history: shared.history,
      clock,
      log,
      budget: this.budget,
      claimLimit: Math.max(100, config.orderBatchSize * 4),
      pollMs: tuning.pollMs,
      batchWindowMs: config.batchWindowMs,
      maxAttempts: () => this.config.maxAttempts,
      leaseMs: tuning.leaseMs,
      backoff: tuning.backoff,
      metrics,
    });
    this.inboxWorker = new Worker({
      name: "inbox",
      queue: shared.inbox,
      handlers: [
        createOrderStateApplier({
          erp: shared.erp,
          binder: shared.binder,
          leases: shared.leases,
          workerId: shared.workerId,
          config: () => this.config,
        }),
        createStockApplier({ erp: shared.erp, binder: shared.binder, config: () => this.config }),
      ],
      history: shared.history,
      clock,
      log,
      claimLimit: 100,
      pollMs: tuning.pollMs,
      batchWindowMs: 0,
      maxAttempts: () => this.config.maxAttempts,
      leaseMs: tuning.leaseMs,
      backoff: tuning.backoff,
      metrics,
    });
    this.scheduler = new Scheduler({
      leases: shared.leases,
      state: shared.state,
      clock,
      log,
      holderId: shared.workerId,
      tickMs: tuning.schedulerTickMs,
      leaseMs: tuning.schedulerLeaseMs,
    });
    this.scheduler.add({
      name: "reconcile-orders",
      every: () => ({ intervalMs: this.config.reconcileIntervalMinutes * 60_000 }),
      run: async (s) => {
        const r = await reconcileOrders(
          {
            outbox: shared.outbox,
            erp: shared.erp,
            binder: shared.binder,
            log: shared.eventLog,
            state: shared.state,
            clock,
            config: () => this.config,
            onQueued: () => this.worker.notify(),
          },
          s,
        );
        if (r.queued) log.warn({ scanned: r.scanned, queued: r.queued }, "reconciliation found ERP orders that had not reached ZenFlow");
      },
    });
    this.scheduler.add(housekeepingTask({ db: shared.db, clock, log, retentionDays: () => this.config.retentionDays }));
    this.addWebhookTasks(shared);
    this.addCatalogTasks(shared);
  }

  /** Tasks that talk to ZenFlow about webhooks: subscription upkeep and the lost-webhook backstop. */
  private addWebhookTasks(shared: Shared): void {
    const { clock, log } = shared;
    this.scheduler.add({
      name: "webhook-subscription",
      every: () => ({ intervalMs: 60 * 60_000 }),
      run: async () => {
        try {
          await ensureSubscription({
            client: this.client,
            state: shared.state,
            config: this.config,
            publicUrl: shared.publicUrl,
            clock,
            log,
          });
          await shared.state.delete(WEBHOOK_PROBLEM_KEY);
        } catch (err) {
          // Health shows it; order state then only comes through the backstop.
          await shared.state.set(WEBHOOK_PROBLEM_KEY, {
            at: clock.now(),
            message: describeError(err),
            scope: err instanceof AuthError ? err.scope : undefined,
          });
          throw err;
        }
      },
    });
    this.scheduler.add({
      name: "order-status-backstop",
      every: () => ({ intervalMs: this.config.backstopIntervalMinutes * 60_000 }),
      runAtFirstStart: false,
      run: async (signal) => {
        const r = await backstop(
          {
            binder: shared.binder,
            client: this.client,
            erp: shared.erp,
            inbox: shared.inbox,
            clock,
            config: () => this.config,
            onQueued: () => this.notifyInbox(),
          },
          signal,
        );
        if (r.changed) log.warn(r, "order status check found ZenFlow states no webhook had delivered");
      },
    });
  }

  /** Work an admin starts (import, full stock sync): request-driven, resumable, one process at a time. */
  private addCatalogTasks(shared: Shared): void {
    const deps = () => ({
      erp: shared.erp,
      binder: shared.binder,
      client: this.client,
      state: shared.state,
      log: shared.eventLog,
      clock: shared.clock,
      config: () => this.config,
    });
    this.scheduler.add({
      name: "import-catalog",
      every: () => ({ intervalMs: Number.POSITIVE_INFINITY }),
      runAtFirstStart: false,
      wanted: async () => !!(await pendingRequest(shared.state, "import-catalog")),
      run: async (signal) => {
        await runCatalogImport(deps(), signal);
        this.notify();
      },
    });
    this.scheduler.add({
      name: "sync-stock",
      every: () => ({ cron: this.config.stockFullSyncCron }),
      runAtFirstStart: false,
      wanted: async () => !!(await pendingRequest(shared.state, "sync-stock")),
      run: async (signal) => {
        if (this.config.stockSource !== "none") await runStockSync(deps(), signal);
        else await clearRequest(shared.state, "sync-stock");
        this.notify();
      },
    });
  }

  notifyInbox(): void {
    this.inboxWorker.notify();
  }

  async start(): Promise<void> {
    await this.budget.ensureRow();
    // For the CLI, which reads the tables without the host's settings.
    await this.shared.state.set(budgetLimitsKey(this.budget.keyId), this.budget.limits);
    // A new config may carry a fixed key: work parked by auth failures goes now.
    await this.shared.outbox.release(AUTH_ERROR_CODES);
    if (!this.tuning.autoStart) return;
    this.worker.start();
    this.inboxWorker.start();
    this.scheduler.start();
    // A new config (key, URL, stock source) may need another subscription: check now, not in an hour.
    void this.scheduler.runTask("webhook-subscription").catch(() => undefined);
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
