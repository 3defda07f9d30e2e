// Gauges are read from the database just before each scrape, so every ERP process reports
// the same cluster-wide numbers (the counters, in contrast, count this process's work).
import type { Knex } from "knex";
import type { BudgetSnapshot } from "../budget/shared-budget";
import { queueCounts } from "./health";
import type { Metrics } from "./metrics";
import { oldestUnsentAt } from "./queries";

const LIVE_STATUSES = ["pending", "running", "dead"];

export class GaugeRefresher {
  /** Label sets seen before: they read 0 when their rows are gone instead of vanishing from the scrape. */
  private readonly seen = new Map<string, { queue: string; kind: string; status: string }>();

  constructor(private readonly metrics: Metrics) {
    // Always present, so that alerts such as zenflow_jobs{status="dead"} > 0 have a series to read.
    for (const status of LIVE_STATUSES) this.remember({ queue: "outbox", kind: "order", status });
  }

  private remember(labels: { queue: string; kind: string; status: string }): void {
    this.seen.set(`${labels.queue}\u0000${labels.kind}\u0000${labels.status}`, labels);
  }

  async refresh(db: Knex, budget: BudgetSnapshot | null, now: number): Promise<void> {
    const [counts, oldest] = await Promise.all([queueCounts(db), oldestUnsentAt(db)]);
    for (const r of counts.byKindStatus) this.remember({ queue: r.queue, kind: r.kind, status: r.status });
    const current = new Map(counts.byKindStatus.map((r) => [`${r.queue}\u0000${r.kind}\u0000${r.status}`, r.count]));
    for (const [key, labels] of this.seen) this.metrics.jobs.set(labels, current.get(key) ?? 0);

    this.metrics.budgetRemaining.reset();
    if (budget) {
      for (const [window, used, limit] of [
        ["minute", budget.used.minute, budget.limits.perMinute],
        ["hour", budget.used.hour, budget.limits.perHour],
        ["day", budget.used.day, budget.limits.perDay],
      ] as const) {
        this.metrics.budgetRemaining.set({ window }, Math.max(0, limit - used));
      }
    }
    this.metrics.outboxLag.set(oldest ? Math.max(0, (now - oldest) / 1000) : 0);
  }
}
