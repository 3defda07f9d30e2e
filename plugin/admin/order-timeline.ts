// One order's life as the plugin saw it, oldest first, for an admin who must tell the
// warehouse manager why SO-123 is not there yet and when it will be: the ERP changes that
// reached the plugin, its jobs and their outcomes, each request to ZenFlow (with the budget
// window it used), the webhooks that came back and the notes written to the ERP order. Plus
// one "what now" line. Read-only; every query stays on an index and is bounded.
import type { Knex } from "knex";
import type { SendPlan } from "./send-plan";
import type { BudgetSnapshot } from "../budget/shared-budget";
import { num, numOrNull } from "../core/dialect";
import type { ErpPort } from "../core/erp-port";
import type { ErpOrder } from "../core/host-api";
import { Table } from "../core/tables";
import { clip } from "../core/text";
import { BINDER_ID_MAX } from "../id-map/binder";
import { entityKey } from "../jobs/keys";
import { utcFull } from "./format";

type Row = Record<string, unknown>;

/** The newest entries a timeline keeps (older ones are counted, not shown). */
export const TIMELINE_LIMIT = 200;

export type TimelineSource = "erp" | "job" | "request" | "outcome" | "webhook" | "note";

export interface TimelineEntry {
  at: number;
  source: TimelineSource;
  title: string;
  /** sent, retry, dead, ok, server_error, applied, … (a CSS tag on the page). */
  outcome: string | null;
  detail: string | null;
}

export interface OrderRef {
  erpId: string | null;
  number: string;
  erpStatus: string | null;
  zenflowId: string | null;
  zenflowState: string | null;
}

export interface WhatNow {
  tone: "ok" | "waiting" | "bad";
  text: string;
}

export interface OrderTimeline {
  query: string;
  /** Null when neither the ERP nor the plugin knows an order by that number, id or ZenFlow id. */
  order: OrderRef | null;
  entries: TimelineEntry[];
  /** Entries older than the newest TIMELINE_LIMIT that were left out. */
  omitted: boolean;
  whatNow: WhatNow;
}

export interface TimelineDeps {
  db: Knex;
  /** Null when the ERP cannot be asked (the command line): then only the plugin's tables answer. */
  erp: ErpPort | null;
  now: number;
  /** The shared budget under the current config, for "waiting for the budget". */
  budget: BudgetSnapshot | null;
  /** What the next sync will do (send-plan.ts), for "when will it be sent"; null where it cannot be computed (the CLI). */
  plan?: SendPlan | null;
}

interface Found {
  ref: OrderRef;
  outboxKey: string;
  inboxKeys: string[];
}

/** The timeline of the order with this ERP number (or ERP id, or ZenFlow id). */
export async function orderTimeline(deps: TimelineDeps, query: string, limit = TIMELINE_LIMIT): Promise<OrderTimeline> {
  const q = clip(query.trim(), BINDER_ID_MAX);
  const found = q ? await findOrder(deps, q) : null;
  if (!found)
    return {
      query: q,
      order: null,
      entries: [],
      omitted: false,
      whatNow: { tone: "bad", text: `No order "${q}" is known to the ERP or to the plugin (by ERP number, ERP id or ZenFlow id).` },
    };
  const { db } = deps;
  const keys = [found.outboxKey, ...found.inboxKeys];
  const [history, jobs, inbox, requests] = await Promise.all([
    db(Table.history).whereIn("entity_key", keys).orderBy("at", "desc").orderBy("id", "desc").limit(limit) as Promise<Row[]>,
    db(Table.outbox)
      .where("entity_key", found.outboxKey)
      .orderBy("id", "desc")
      .limit(20)
      .select("id", "status", "attempts", "run_at", "last_error", "created_at", "finished_at") as Promise<Row[]>,
    found.inboxKeys.length
      ? (db(Table.inbox)
          .whereIn("entity_key", found.inboxKeys)
          .orderBy("id", "desc")
          .limit(50)
          .select("id", "event_id", "event", "status", "created_at") as Promise<Row[]>)
      : Promise.resolve([] as Row[]),
    db(Table.requests).where("entity_key", found.outboxKey).orderBy("at", "desc").orderBy("id", "desc").limit(limit) as Promise<Row[]>,
  ]);
  const inboxKeys = new Set(found.inboxKeys);
  const all: (TimelineEntry & { rank: number; seq: number })[] = [
    ...history.map((r) => ({ ...historyEntry(r, inboxKeys.has(String(r.entity_key))), seq: num(r.id) })),
    ...jobs.map((r) => ({ ...jobEntry(r), seq: num(r.id) })),
    ...requests.map((r) => ({ ...requestEntry(r), seq: num(r.id) })),
    ...inbox.map((r) => ({ ...webhookEntry(r), seq: num(r.id) })),
  ];
  // Same instant (a fast worker): the order things happen in, then the order rows were written.
  all.sort((a, b) => a.at - b.at || a.rank - b.rank || a.seq - b.seq);
  const kept = all.slice(-limit);
  return {
    query: q,
    order: found.ref,
    entries: kept.map(({ rank: _rank, seq: _seq, ...e }) => e),
    omitted: all.length > kept.length || history.length >= limit || requests.length >= limit,
    whatNow: whatNow(deps, found.ref, jobs, inbox, history),
  };
}

async function findOrder(deps: TimelineDeps, q: string): Promise<Found | null> {
  const { db, erp } = deps;
  let order: ErpOrder | null = null;
  if (erp) order = (await erp.findOrderByNumber(q).catch(() => null)) ?? (await erp.getOrder(q).catch(() => null));
  let map: Row | undefined;
  if (order) map = await db(Table.idMap).where({ entity_type: "order", erp_id: order.id }).first();
  else {
    // Each of these columns is indexed with entity_type.
    for (const column of ["erp_ref", "zenflow_id", "erp_id"]) {
      map = await db(Table.idMap)
        .where({ entity_type: "order", [column]: q })
        .first();
      if (map) break;
    }
    if (map && erp) order = await erp.getOrder(String(map.erp_id)).catch(() => null);
  }
  const erpId = order?.id ?? (map ? String(map.erp_id) : null);
  let outboxKey = erpId === null ? null : entityKey.order(erpId);
  // An order the ERP no longer has and the binder never saw: its history still names it.
  if (!outboxKey) {
    const h: Row | undefined = await db(Table.history).where({ erp_ref: q, kind: "order" }).orderBy("id", "desc").first();
    if (h && String(h.entity_key) !== entityKey.inboxOrder(q)) outboxKey = String(h.entity_key);
  }
  if (!outboxKey) return null;
  const number = order?.number ?? (map?.erp_ref == null ? q : String(map.erp_ref));
  const zenflowId = map?.zenflow_id == null ? null : String(map.zenflow_id);
  // Webhooks are keyed by what ZenFlow sends: our order number, else its own id.
  const inboxKeys = [...new Set([number, zenflowId].filter((v): v is string => !!v).map((v) => entityKey.inboxOrder(v)))].filter(
    (k) => k !== outboxKey,
  );
  return {
    ref: {
      erpId,
      number,
      erpStatus: order?.status ?? null,
      zenflowId,
      zenflowState: map?.remote_state == null ? null : String(map.remote_state),
    },
    outboxKey,
    inboxKeys,
  };
}

const OUTCOME_TITLES: Record<string, string> = {
  sent: "Sent to ZenFlow",
  noop: "Nothing to send",
  retry: "Failed; will retry",
  dead: "Dead letter",
  refused: "Refused",
  discarded: "Discarded by an admin",
  applied: "Applied to the ERP order",
  ignored: "Ignored",
  unmatched: "Matched no ERP order",
};

function historyEntry(r: Row, fromWebhook: boolean): TimelineEntry & { rank: number } {
  const outcome = String(r.outcome);
  const message = r.message == null ? null : String(r.message);
  const at = num(r.at);
  if (outcome === "received") return { at, rank: 0, source: "erp", title: "ERP change reached the plugin", outcome: null, detail: message };
  if (outcome === "note") return { at, rank: 6, source: "note", title: "Note written to the ERP order", outcome: "note", detail: message };
  const title = OUTCOME_TITLES[outcome] ?? outcome;
  if (fromWebhook) return { at, rank: 5, source: "webhook", title: `ZenFlow update: ${title.toLowerCase()}`, outcome, detail: message };
  return { at, rank: 3, source: "outcome", title, outcome, detail: message };
}

function jobEntry(r: Row): TimelineEntry & { rank: number } {
  const attempts = num(r.attempts);
  return {
    at: num(r.created_at),
    rank: 1,
    source: "job",
    title: `Queued as job outbox:${num(r.id)}`,
    outcome: String(r.status),
    detail: `now ${String(r.status)}, ${attempts} ${attempts === 1 ? "attempt" : "attempts"}`,
  };
}

function requestEntry(r: Row): TimelineEntry & { rank: number } {
  const status = numOrNull(r.status);
  const outcome = String(r.outcome);
  const batch = num(r.batch_size);
  const parts = [
    `${status === null ? "no answer" : `HTTP ${status}`}${outcome === "ok" ? "" : ` (${outcome})`} after ${num(r.duration_ms)} ms`,
    // Which windows of the shared budget the request's token was counted in.
    `counted in the budget minute ${utcFull(num(r.minute_start)).slice(11, 16)} and hour ${utcFull(num(r.hour_start)).slice(11, 16)} UTC`,
    batch > 1 ? `one of ${batch} orders in the request` : null,
    r.message == null ? null : String(r.message),
  ];
  return {
    at: num(r.at),
    rank: 2,
    source: "request",
    title: `${String(r.endpoint).split(" ")[0]} ${String(r.path)}`,
    outcome: outcome === "ok" ? "ok" : outcome,
    detail: parts.filter(Boolean).join(" · "),
  };
}

function webhookEntry(r: Row): TimelineEntry & { rank: number } {
  return {
    at: num(r.created_at),
    rank: 4,
    source: "webhook",
    title: `ZenFlow webhook ${String(r.event)} received`,
    outcome: String(r.status),
    detail: `event ${String(r.event_id)}, now ${String(r.status)}`,
  };
}

function whatNow(deps: TimelineDeps, ref: OrderRef, jobs: Row[], inbox: Row[], history: Row[]): WhatNow {
  const { now, budget } = deps;
  const waitingWebhooks = inbox.filter((r) => r.status === "pending" || r.status === "running").length;
  const webhookNote = waitingWebhooks ? ` ${waitingWebhooks} ZenFlow update(s) waiting to be applied to the ERP order.` : "";
  const live = jobs.find((j) => j.status === "pending" || j.status === "running");
  if (live) {
    const id = `outbox:${num(live.id)}`;
    const attempts = num(live.attempts);
    if (live.status === "running")
      return { tone: "waiting", text: `Being sent to ZenFlow right now (job ${id}, attempt ${attempts}).${webhookNote}` };
    const runAt = num(live.run_at);
    const lastError = live.last_error == null ? "" : ` Last error: ${String(live.last_error)}`;
    if (budget && budget.pausedUntil > now)
      return {
        tone: "waiting",
        text: `Waiting: sending is paused for every ERP process until ${utcFull(budget.pausedUntil)}${budget.pauseReason ? ` (${budget.pauseReason})` : ""}; job ${id} goes after that.${lastError}`,
      };
    if (runAt > now && attempts > 0)
      return { tone: "waiting", text: `Retrying at ${utcFull(runAt)} (job ${id}, ${attempts} failed attempt(s) so far).${lastError}` };
    if (runAt > now) return { tone: "waiting", text: `Queued as job ${id}; due at ${utcFull(runAt)}.` };
    // No budget: no engine, so no valid settings (or, from the command line, no process ever sent).
    if (!budget)
      return {
        tone: "waiting",
        text: `Queued as job ${id} and due, but nothing is sent until the plugin is configured (see the health line).`,
      };
    const planned = deps.plan ? plannedFor(deps.plan, num(live.id)) : null;
    if (planned) return { tone: "waiting", text: `${planned}${lastError}` };
    const full = fullWindow(budget, now);
    if (full)
      return {
        tone: "waiting",
        text: `Waiting for the rate budget: this ${full.name}'s ${full.limit} requests are used; the next window opens at ${utcFull(full.reset)}. Orders go first when it does.`,
      };
    return { tone: "waiting", text: `Queued as job ${id} and due now: an ERP process sends it within seconds.${lastError}` };
  }
  const dead = jobs.find((j) => j.status === "dead");
  if (dead && !ref.zenflowId) {
    const id = `outbox:${num(dead.id)}`;
    return {
      tone: "bad",
      text: `Dead letter since ${utcFull(numOrNull(dead.finished_at))}: ${String(dead.last_error ?? "no message")}. Fix the cause (usually the ERP order), then Retry ${id} under Dead letters on this page, or run zenflow-erp retry-dead ${id}.`,
    };
  }
  if (ref.zenflowId) {
    const state = ref.zenflowState;
    if (state === "Completed")
      return { tone: "ok", text: `In ZenFlow as order ${ref.zenflowId}: completed (shipped). Nothing left to do.${webhookNote}` };
    if (state === "Cancelled") return { tone: "ok", text: `In ZenFlow as order ${ref.zenflowId}: cancelled there.${webhookNote}` };
    const deadNote = dead ? ` A later change is a dead letter (outbox:${num(dead.id)}): ${String(dead.last_error ?? "")}` : "";
    return {
      tone: dead ? "bad" : "ok",
      text: `In ZenFlow as order ${ref.zenflowId}${state ? `, state ${state}` : ""}. Nothing waiting on the plugin's side: the warehouse has not reported it shipped yet (webhooks, and an hourly status check for orders sent over 2 h ago).${deadNote}${webhookNote}`,
    };
  }
  const last = history.find((h) => h.outcome === "noop");
  if (last) return { tone: "bad", text: `Not sent: ${String(last.message ?? "")}` };
  return {
    tone: "bad",
    text: 'Not in ZenFlow and nothing queued. The reconciliation (every minute) queues orders in a status that is sent; check the order\'s status and the setting "ERP order statuses to send".',
  };
}

/** "Queued as job outbox:12: the next sync sends it with 49 other orders in POST /orders at about 10:42:07 UTC …" */
function plannedFor(plan: SendPlan, jobId: number): string | null {
  const r = plan.requests.find((x) => x.jobIds.includes(jobId));
  const id = `outbox:${jobId}`;
  if (!r) {
    const order = plan.kinds.find((k) => k.kind === "order");
    // Beyond the jobs the plan classified one by one: only the backlog's end is known.
    if (order && order.due > 0 && plan.throughAt && plan.requests.some((x) => x.estimated && x.kind === "order"))
      return `Queued as job ${id} in a backlog of ${order.due} orders; at the current budget all of them are sent by ${utcFull(plan.throughAt)}.`;
    return null;
  }
  const others = r.jobIds.length - 1;
  const company = others ? ` with ${others} other change${others === 1 ? "" : "s"}` : "";
  const held =
    r.why === "waited" && r.notBefore > plan.generatedAt
      ? `; while the rate budget is short it waits for a fuller batch until ${utcFull(r.notBefore)}`
      : "";
  const when = r.at === null ? "once the budget allows" : r.at - plan.generatedAt < 5_000 ? "within seconds" : `at about ${utcFull(r.at)}`;
  return `Queued as job ${id}: the next sync sends it${company} in ${r.endpoint} ${when}${held}.`;
}

function fullWindow(b: BudgetSnapshot, now: number): { name: string; limit: number; reset: number } | null {
  const windows = [
    { name: "day", used: b.used.day, limit: b.limits.perDay, reset: b.resets.day },
    { name: "hour", used: b.used.hour, limit: b.limits.perHour, reset: b.resets.hour },
    { name: "minute", used: b.used.minute, limit: b.limits.perMinute, reset: b.resets.minute },
  ];
  return windows.find((w) => Number.isFinite(w.limit) && w.used >= w.limit && w.reset > now) ?? null;
}
