// health(): one status and one line an admin can act on, worst problem first.
// Never includes secrets: only counts, times and ZenFlow's error codes/messages.
import type { Knex } from "knex";
import { num } from "../core/dialect";
import type { HealthReport } from "../core/host-api";
import type { BudgetSnapshot } from "../budget/shared-budget";
import { Table } from "../core/tables";
import { isoOrNull, utc } from "./format";
import type { SendPlan } from "./send-plan";

export interface QueueCounts {
  pending: number;
  running: number;
  dead: number;
  oldestPendingAt: number | null;
  byKindStatus: { queue: string; kind: string; status: string; count: number }[];
}

export async function queueCounts(db: Knex): Promise<QueueCounts> {
  const out: QueueCounts = { pending: 0, running: 0, dead: 0, oldestPendingAt: null, byKindStatus: [] };
  const live = ["pending", "running", "dead"];
  const outbox = await db(Table.outbox)
    .select("kind", "status")
    .count({ n: "*" })
    .min({ oldest: "created_at" })
    .whereIn("status", live)
    .groupBy("kind", "status");
  const inbox = await db(Table.inbox)
    .select({ kind: "event" }, "status")
    .count({ n: "*" })
    .min({ oldest: "created_at" })
    .whereIn("status", live)
    .groupBy("event", "status");
  // ERP changes not yet routed from the event log are waiting too.
  const log = (await db(Table.eventLog).count({ n: "*" }).min({ oldest: "received_at" }).first()) as Record<string, unknown> | undefined;
  const logCount = num(log?.n);
  if (logCount) {
    out.pending += logCount;
    out.oldestPendingAt = num(log?.oldest) || null;
    out.byKindStatus.push({ queue: "event_log", kind: "(not routed yet)", status: "pending", count: logCount });
  }
  for (const [queue, rows] of [
    ["outbox", outbox],
    ["inbox", inbox],
  ] as const) {
    for (const r of rows as Record<string, unknown>[]) {
      const n = num(r.n);
      const status = String(r.status);
      out.byKindStatus.push({ queue, kind: String(r.kind), status, count: n });
      if (status === "pending") {
        out.pending += n;
        const oldest = num(r.oldest);
        if (oldest && (out.oldestPendingAt === null || oldest < out.oldestPendingAt)) out.oldestPendingAt = oldest;
      } else if (status === "running") out.running += n;
      else if (status === "dead") out.dead += n;
    }
  }
  return out;
}

function hhmm(ms: number): string {
  const iso = isoOrNull(ms);
  return iso ? `${iso.slice(11, 16)} UTC` : "an unknown time";
}

function minutes(ms: number): string {
  const m = Math.round(ms / 60_000);
  return m < 1 ? "under a minute" : `${m} min`;
}

export interface HealthInputs {
  now: number;
  configProblem: string | null;
  budget: BudgetSnapshot | null;
  counts: QueueCounts | null;
  missingScopes: string[];
  /** Why the webhook subscription could not be set up, if it could not. */
  webhookProblem?: { message: string; scope?: string } | null;
  lastSuccessAt: number | null;
  /** Why the last full stock sync stopped before writing (the drift guard), if it did. */
  stockSyncStopped?: string | null;
  /** What the next sync will do, while something waits (admin/send-plan.ts). */
  plan?: Pick<SendPlan, "waiting" | "requests" | "throughAt" | "summary"> | null;
  /** Pending jobs older than this make health degraded. */
  backlogWarnMs?: number;
}

export function assessHealth(i: HealthInputs): HealthReport {
  if (i.configProblem) return { status: "unconfigured", message: i.configProblem };
  const details: Record<string, unknown> = {
    pending: i.counts?.pending ?? null,
    running: i.counts?.running ?? null,
    deadLetters: i.counts?.dead ?? null,
    oldestPendingAt: isoOrNull(i.counts?.oldestPendingAt),
    lastSuccessAt: isoOrNull(i.lastSuccessAt),
    budget: i.budget
      ? {
          used: i.budget.used,
          limits: i.budget.limits,
          pausedUntil: i.budget.pausedUntil > i.now ? isoOrNull(i.budget.pausedUntil) : null,
        }
      : null,
    ...(i.plan
      ? {
          plan: {
            waiting: i.plan.waiting,
            requests: i.plan.requests.length,
            throughAt: isoOrNull(i.plan.throughAt),
            summary: i.plan.summary,
          },
        }
      : {}),
  };
  const b = i.budget;
  if (b?.authError) {
    const at = b.authFailedAt ? ` at ${hhmm(b.authFailedAt)}` : "";
    return {
      status: "down",
      message: `ZenFlow rejected the API key${at} — sending paused. Check the key in the plugin settings, then run "Test connection". (${b.authError})`,
      details,
    };
  }
  if (i.missingScopes.length) {
    return {
      status: "degraded",
      message: `The ZenFlow API key lacks the scope ${i.missingScopes.join(", ")} — that part of the sync is waiting. Add the scope in ZenFlow (Settings > API Keys).`,
      details,
    };
  }
  if (i.webhookProblem) {
    const why = i.webhookProblem.scope ? `the API key lacks the scope ${i.webhookProblem.scope}` : i.webhookProblem.message;
    return {
      status: "degraded",
      message: `ZenFlow cannot notify the ERP of picking and shipping (${why}); order states are only checked every hour. Add the scope, or create the webhook in ZenFlow and paste its secret in the settings.`,
      details,
    };
  }
  if (i.stockSyncStopped) {
    return { status: "degraded", message: `Full stock sync ${i.stockSyncStopped}`, details };
  }
  const c = i.counts;
  const backlogAge = c?.oldestPendingAt ? i.now - c.oldestPendingAt : 0;
  if (b && b.pausedUntil > i.now && b.pauseReason !== "auth") {
    return {
      status: "degraded",
      message: `ZenFlow asked us to slow down — sending resumes at ${utc(b.pausedUntil, i.now)} (${c?.pending ?? 0} waiting). An admin can resume now from the ZenFlow dashboard.`,
      details,
    };
  }
  if (b) {
    for (const [w, label] of [
      ["day", "day"],
      ["hour", "hour"],
      ["minute", "minute"],
    ] as const) {
      const limit = w === "day" ? b.limits.perDay : w === "hour" ? b.limits.perHour : b.limits.perMinute;
      if (b.used[w] >= limit && (c?.pending ?? 0) > 0 && w !== "minute") {
        return {
          status: "degraded",
          message: `Rate budget for the ${label} used (${b.used[w]}/${limit}) — sending resumes at ${hhmm(b.resets[w])}; ${c?.pending ?? 0} waiting`,
          details,
        };
      }
    }
  }
  if (c && backlogAge > (i.backlogWarnMs ?? 10 * 60_000)) {
    const through = i.plan?.throughAt ? `; at the current budget all are sent by ${hhmm(i.plan.throughAt)}` : "";
    return { status: "degraded", message: `${c.pending} changes waiting, oldest ${minutes(backlogAge)}${through}`, details };
  }
  if (c && c.dead > 0) {
    return {
      status: "degraded",
      message: `${c.dead} change${c.dead === 1 ? "" : "s"} could not be synced and need${c.dead === 1 ? "s" : ""} attention — open the ZenFlow dashboard to see why and retry`,
      details,
    };
  }
  const last = i.lastSuccessAt ? `; last ZenFlow call ${hhmm(i.lastSuccessAt)}` : "";
  return { status: "ok", message: `In sync — ${c?.pending ?? 0} waiting${last}`, details };
}
