// `zenflow-erp status`: the plugin's health as far as the tables tell it, without the API
// key and without a running ERP. Only counts, times, references and ZenFlow's messages:
// never a setting, never the key.
import type { Knex } from "knex";
import { age, isoOrNull, oneLine, plural, utc } from "../admin/format";
import { latestBudget, listDeadLetters, missingScopes, percentOf, readRuns } from "../admin/queries";
import type { Clock } from "../core/clock";
import { assessHealth, queueCounts } from "../admin/health";
import type { HealthStatus } from "../core/host-api";
import type { KvStore } from "../core/kv-store";
import { printable } from "../core/text";

export interface CliStatus {
  status: HealthStatus;
  message: string;
  checkedAt: string;
  waiting: number;
  running: number;
  deadLetters: number;
  oldestWaitingAt: string | null;
  oldestWaitingSeconds: number | null;
  lastSuccessAt: string | null;
  budget: {
    used: { minute: number; hour: number; day: number };
    /** Null until a running plugin has published its limits. */
    limits: { perMinute: number; perHour: number; perDay: number } | null;
    resetsAt: { minute: string; hour: string; day: string };
    pausedUntil: string | null;
    pauseReason: string | null;
  } | null;
  queues: { queue: string; kind: string; status: string; count: number }[];
  deadLetterList: { job: string; kind: string; erpRef: string | null; failedAt: string | null; attempts: number; error: string | null }[];
  runs: {
    name: string;
    label: string;
    status: string | null;
    done: number;
    total: number | null;
    errors: number;
    percent: number | null;
    startedAt: string | null;
    updatedAt: string | null;
    requestedAt: string | null;
  }[];
}

export async function readStatus(db: Knex, state: KvStore, clock: Clock): Promise<CliStatus> {
  const now = clock.now();
  const [counts, budget, scopes, dead, runs] = await Promise.all([
    queueCounts(db),
    latestBudget(db, now),
    missingScopes(db),
    listDeadLetters(db, 20),
    readRuns(state),
  ]);
  const lastSuccessAt = budget?.lastSuccessAt ?? null;
  // The settings are the host's (and encrypted): the CLI judges by the tables alone.
  const stockSync = runs.find((r) => r.name === "sync-stock")?.progress;
  const health = assessHealth({
    now,
    configProblem: null,
    budget,
    counts,
    missingScopes: scopes,
    lastSuccessAt,
    stockSyncStopped: stockSync?.status === "stopped" ? (stockSync.message ?? "stopped") : null,
  });
  return {
    status: health.status,
    message: health.message ?? "",
    checkedAt: isoOrNull(now) ?? "",
    waiting: counts.pending,
    running: counts.running,
    deadLetters: counts.dead,
    oldestWaitingAt: isoOrNull(counts.oldestPendingAt),
    oldestWaitingSeconds: counts.oldestPendingAt ? Math.round((now - counts.oldestPendingAt) / 1000) : null,
    lastSuccessAt: isoOrNull(lastSuccessAt),
    budget: budget
      ? {
          used: budget.used,
          limits: Number.isFinite(budget.limits.perMinute) ? budget.limits : null,
          resetsAt: {
            minute: isoOrNull(budget.resets.minute) ?? "",
            hour: isoOrNull(budget.resets.hour) ?? "",
            day: isoOrNull(budget.resets.day) ?? "",
          },
          pausedUntil: budget.pausedUntil > now ? isoOrNull(budget.pausedUntil) : null,
          pauseReason: budget.pausedUntil > now ? budget.pauseReason : null,
        }
      : null,
    queues: counts.byKindStatus,
    deadLetterList: dead.map((d) => ({
      job: `${d.queue}:${d.id}`,
      kind: d.kind,
      erpRef: d.erpRef,
      failedAt: isoOrNull(d.failedAt),
      attempts: d.attempts,
      error: d.lastError,
    })),
    runs: runs.map((r) => ({
      name: r.name,
      label: r.label,
      status: r.progress?.status ?? null,
      done: r.progress?.done ?? 0,
      total: r.progress?.total ?? null,
      errors: r.progress?.errors ?? 0,
      percent: r.progress ? percentOf(r.progress) : null,
      startedAt: isoOrNull(r.progress?.startedAt),
      updatedAt: isoOrNull(r.progress?.updatedAt),
      requestedAt: isoOrNull(r.request?.requestedAt),
    })),
  };
}

export function formatStatus(s: CliStatus, now: number): string {
  const ms = (iso: string | null) => (iso ? Date.parse(iso) : null);
  const lines: string[] = [];
  lines.push(`ZenFlow sync: ${s.status} — ${s.message}`);
  const oldest = s.oldestWaitingSeconds !== null ? `, oldest ${age(s.oldestWaitingSeconds * 1000)}` : "";
  lines.push(`Waiting: ${s.waiting}${oldest} · being sent: ${s.running} · dead letters: ${s.deadLetters}`);
  lines.push(
    `Last successful ZenFlow call: ${s.lastSuccessAt ? `${utc(ms(s.lastSuccessAt), now)} (${age(now - ms(s.lastSuccessAt)!)} ago)` : "none recorded"}`,
  );
  if (s.budget) {
    const b = s.budget;
    lines.push(
      `Rate budget used: ${of(b.used.minute, b.limits?.perMinute)} this minute, ${of(b.used.hour, b.limits?.perHour)} this hour (resets ${utc(ms(b.resetsAt.hour), now)}), ${of(b.used.day, b.limits?.perDay)} today (resets ${utc(ms(b.resetsAt.day), now)})`,
    );
    if (b.pausedUntil) lines.push(`Sending paused until ${utc(ms(b.pausedUntil), now)}${b.pauseReason ? ` (${b.pauseReason})` : ""}`);
  }
  for (const r of s.runs) {
    if (!r.status) {
      lines.push(`${r.label}: requested ${utc(ms(r.requestedAt), now)}, waiting for an ERP process to start it`);
      continue;
    }
    const amount = r.total ? `${r.done}/${r.total}` : `${r.done} done`;
    lines.push(
      `${r.label}: ${r.status} ${amount}${r.percent !== null ? ` (${r.percent}%)` : ""}, ${plural(r.errors, "error")}, updated ${utc(ms(r.updatedAt), now)}`,
    );
  }
  if (s.queues.length) {
    lines.push("Queues:");
    for (const q of s.queues)
      lines.push(`  ${q.queue.padEnd(9)} ${q.kind.padEnd(20)} ${q.status.padEnd(8)} ${String(q.count).padStart(7)}`);
  }
  if (s.deadLetterList.length) {
    lines.push(`Dead letters${s.deadLetters > s.deadLetterList.length ? ` (newest ${s.deadLetterList.length} of ${s.deadLetters})` : ""}:`);
    for (const d of s.deadLetterList) {
      lines.push(`  ${d.job}  ${d.kind} ${d.erpRef ?? ""}  failed ${utc(ms(d.failedAt), now)} after ${plural(d.attempts, "attempt")}`);
      lines.push(`      ${oneLine(d.error, 400)}`);
    }
    lines.push("Retry with: zenflow-erp retry-dead <job>… or --all");
  }
  // ERP strings (order numbers, SKUs, messages) reach a terminal: no escape sequence gets through.
  return lines.map(printable).join("\n");
}

/** "12/60" when the limit is known, else "12". */
function of(used: number, limit: number | undefined): string {
  return limit !== undefined && Number.isFinite(limit) ? `${used}/${limit}` : String(used);
}
