// Everything that depends on a valid config: the ZenFlow client, the shared budget and
// its limiter, the outbox worker and the scheduled tasks. Rebuilt when the config changes.
import { createHash } from "node:crypto";
import type { Clock } from "./clock";
import type { ZenflowConfig } from "./config";
import { AUTH_ERROR_CODES } from "./errors";
import { RequestLimiter } from "./budget/limiter";
import { SharedBudget } from "./budget/shared-budget";
import type { BackoffPolicy } from "./outbox/backoff";
import { Worker } from "./outbox/worker";
import { Scheduler } from "./scheduler";
import { createOrderExporter } from "./sync/export-orders";
import { reconcileOrders } from "./sync/reconcile-orders";
import { createZenflowClient, type ZenflowClient } from "./zenflow/client";
import { createHttp } from "./zenflow/http";
import { createTransport } from "./zenflow/transport";
import type { Shared } from "./shared";

export interface EngineTuning {
  pollMs: number;
  leaseMs: number;
  schedulerTickMs: number;
  schedulerLeaseMs: number;
  boundaryGuardMs: number;
  backoff?: BackoffPolicy;
  /** Start the worker and scheduler loops (tests may drive runOnce themselves). */
  autoStart: boolean;
}

/** The budget row is per API key; the key itself is never stored. */
export function keyIdOf(apiKey: string): string {
  return createHash("sha256").update(`zenflow-budget:${apiKey}`).digest("hex").slice(0, 32);
}

export class Engine {
  readonly budget: SharedBudget;
  readonly limiter: RequestLimiter;
  readonly client: ZenflowClient;
  readonly worker: Worker;
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
    });
    this.worker = new Worker({
      name: "outbox",
      queue: shared.outbox,
      eventLog: shared.eventLog,
      handlers: [orderExporter],
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
  }

  async start(): Promise<void> {
    await this.budget.ensureRow();
    // A new config may carry a fixed key: work parked by auth failures goes now.
    await this.shared.outbox.release(AUTH_ERROR_CODES);
    if (!this.tuning.autoStart) return;
    this.worker.start();
    this.scheduler.start();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.allSettled([this.scheduler.stop(), this.worker.stop()]);
    await this.limiter.stop();
  }

  notify(): void {
    this.worker.notify();
  }
}
