// Prometheus metrics. Each plugin instance has its own registry (several instances live in
// one process in tests, and the host may load other plugins using prom-client too).
import { Counter, Gauge, Histogram, Registry } from "prom-client";

export class Metrics {
  readonly registry = new Registry();
  readonly jobResults = new Counter({
    name: "zenflow_job_results_total",
    help: "Jobs settled, by queue (outbox, inbox), kind and result",
    labelNames: ["queue", "kind", "result"],
    registers: [this.registry],
  });
  readonly requests = new Counter({
    name: "zenflow_requests_total",
    help: "Requests to ZenFlow, by endpoint and outcome (HTTP status or error code)",
    labelNames: ["endpoint", "outcome"],
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: "zenflow_request_duration_seconds",
    help: "ZenFlow response time",
    labelNames: ["endpoint"],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly rateLimited = new Counter({
    name: "zenflow_rate_limited_total",
    help: "HTTP 429 answers from ZenFlow",
    registers: [this.registry],
  });
  readonly webhookDeliveries = new Counter({
    name: "zenflow_webhook_deliveries_total",
    help: "Webhook deliveries received, by answer",
    labelNames: ["result"],
    registers: [this.registry],
  });
  readonly jobs = new Gauge({
    name: "zenflow_jobs",
    help: "Jobs by queue, kind and status",
    labelNames: ["queue", "kind", "status"],
    registers: [this.registry],
  });
  readonly budgetRemaining = new Gauge({
    name: "zenflow_budget_remaining",
    help: "Requests left in the current rate window (all processes)",
    labelNames: ["window"],
    registers: [this.registry],
  });
  readonly outboxLag = new Gauge({
    name: "zenflow_outbox_lag_seconds",
    help: "Age of the oldest job waiting to be sent",
    registers: [this.registry],
  });

  readonly webhookLatency = new Histogram({
    name: "zenflow_webhook_duration_seconds",
    help: "Time the webhook endpoint takes from request to answer (verify, validate, store)",
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  jobSettled(queue: string, kind: string, result: string): void {
    this.jobResults.inc({ queue, kind, result });
  }
}
