// "What will the next sync do?" — the plan view. Per kind, the jobs that are due, the
// requests they become, the budget window each request falls in and when the backlog is
// through. Nothing here has a model of its own: the due jobs are read in claim order by the
// queue's own query (peekDue), each claim is decided by batch-hold.ts as the worker decides
// it, each claimed group is turned into requests by its synchronizer's read-only `plan`
// (the same classification `run` acts on), and each request is admitted by budget/
// admission.ts, the rule every token take applies. Reads only; sends and writes nothing.
import type { BudgetSnapshot } from "../budget/shared-budget";
import { type WindowUse, admission, reserveFor } from "../budget/admission";
import { DAY, HOUR, MINUTE, WINDOWS, type BudgetLimits, windowStart } from "../budget/windows";
import { decideBatch } from "../outbox/batch-hold";
import type { EventLog } from "../outbox/event-log";
import type { JobQueue, QueueJob } from "../outbox/queue";
import type { Worker } from "../outbox/worker";
import { type KvStore, kvKey } from "../core/kv-store";
import { plural, utc } from "./format";

/** Jobs per kind that are classified one by one (each reads its ERP record); the rest are estimated. */
export const PLAN_JOBS_PER_KIND = 1000;
/** Requests the token simulation follows; beyond, the plan says "more than". */
const MAX_SIMULATED_REQUESTS = 100_000;

export interface PlannedSend {
  kind: string;
  endpoint: string;
  priority: number;
  /** Jobs the request carries (job ids), and their ERP references (order numbers, SKUs). */
  jobIds: number[];
  refs: string[];
  /**
   * Why it leaves when it does: the budget is plentiful, the batch is full, the hold bound
   * passed, or it never shares a request (an edit or cancellation: never held).
   */
  why: "plentiful" | "full" | "waited" | "alone";
  /** The earliest it may leave (a held partial batch waits for its bound). */
  notBefore: number;
  /** The instant its token is foreseen (whose minute/hour/day windows count it), null beyond the simulation. */
  at: number | null;
  /** Not classified job by job (beyond PLAN_JOBS_PER_KIND): counted as full batches. */
  estimated: boolean;
}

export interface KindPlan {
  kind: string;
  /** Due now (pending, run_at passed). */
  due: number;
  /** Pending for a later time (retry backoff, debounce), and the next of those. */
  later: number;
  nextAt: number | null;
  /** Being sent right now (claimed by some process). */
  running: number;
  /** ERP changes not routed into the outbox yet (routing may coalesce them). */
  unrouted: number;
  /** Due jobs that leave without any request (nothing changed, not eligible, unreadable). */
  withoutRequest: number;
  requests: number;
  /** A partial batch waiting to fill while the budget is short: how many jobs, until when. */
  held: { jobs: number; until: number } | null;
  budgetShort: boolean;
  holdMs: number;
}

export interface SendPlan {
  generatedAt: number;
  limits: BudgetLimits;
  used: WindowUse;
  pausedUntil: number | null;
  pauseReason: string | null;
  kinds: KindPlan[];
  requests: PlannedSend[];
  /** Requests per minute window, in time order. */
  windows: { start: number; requests: number }[];
  /** Jobs the plan covers (due + unrouted) and the instant the last request is foreseen. */
  waiting: number;
  throughAt: number | null;
  /** The simulation stopped before the end (a backlog of more than MAX_SIMULATED_REQUESTS requests). */
  beyondSimulation: boolean;
  summary: string;
}

export interface SendPlanDeps {
  worker: Worker;
  queue: JobQueue;
  eventLog?: EventLog;
  budget: BudgetSnapshot;
  guardMs: number;
  now: number;
  /** Override for tests; default PLAN_JOBS_PER_KIND. */
  jobsPerKind?: number;
}

export async function computeSendPlan(d: SendPlanDeps): Promise<SendPlan> {
  const cap = d.jobsPerKind ?? PLAN_JOBS_PER_KIND;
  const unrouted = (await d.eventLog?.waitingByKind()) ?? new Map<string, number>();
  const kinds: KindPlan[] = [];
  const requests: PlannedSend[] = [];
  for (const k of d.worker.planKinds()) {
    const summary = await d.queue.pendingSummary(k.kind);
    const jobs = await d.queue.peekDue(k.kind, cap);
    const policy = await d.worker.holdPolicy(k.kind, k.fullBatch);
    const kp: KindPlan = {
      kind: k.kind,
      due: summary.due,
      later: summary.later,
      nextAt: summary.nextAt,
      running: summary.running,
      unrouted: unrouted.get(k.kind) ?? 0,
      withoutRequest: 0,
      requests: 0,
      held: null,
      ...policy,
    };
    const refOf = new Map(jobs.map((j) => [j.id, j.erpRef ?? `#${j.id}`]));
    // The claims the worker's loop will make, one after another, as batch-hold.ts decides them.
    let t = d.now;
    let rest: QueueJob[] = jobs;
    while (rest.length) {
      const window = rest.slice(0, k.claimLimit);
      const decision = decideBatch({
        due: { count: window.length, oldestDueAt: Math.min(...window.map((j) => j.runAt)) },
        fullBatch: k.fullBatch,
        claimLimit: k.claimLimit,
        holdMs: policy.holdMs,
        budgetShort: policy.budgetShort,
        now: t,
      });
      if (decision.action === "none") break;
      let claimed: QueueJob[];
      let why: PlannedSend["why"];
      if (decision.action === "hold") {
        // What cannot share a request leaves now, as the worker sends it (Worker.step).
        const alone = k.alone ? await k.alone(window) : new Set<number>();
        if (alone.size) {
          claimed = window.filter((j) => alone.has(j.id));
          rest = rest.filter((j) => !alone.has(j.id));
          why = "alone";
        } else {
          // Only the tail of a backlog is ever held: it goes when its oldest job waited the bound.
          if (!kp.held) kp.held = { jobs: window.length, until: decision.until };
          t = decision.until;
          continue;
        }
      } else {
        claimed = rest.slice(0, decision.limit);
        rest = rest.slice(decision.limit);
        why = decision.why;
      }
      const planned = k.plan ? await k.plan(claimed) : claimed.map((j) => ({ endpoint: k.kind, priority: j.priority, jobIds: [j.id] }));
      const carried = new Set(planned.flatMap((p) => p.jobIds));
      kp.withoutRequest += claimed.filter((j) => !carried.has(j.id)).length;
      for (const p of planned)
        requests.push({
          kind: k.kind,
          ...p,
          refs: p.jobIds.map((id) => refOf.get(id) ?? `#${id}`),
          why,
          notBefore: t,
          at: null,
          estimated: false,
        });
      kp.requests += planned.length;
    }
    // Beyond what was classified one by one (and changes not yet routed): full batches of
    // the kind's usual request, as many as the jobs fill.
    const unplanned = Math.max(0, summary.due - jobs.length) + kp.unrouted;
    if (unplanned) {
      const priority = jobs.at(-1)?.priority ?? [...requests].reverse().find((r) => r.kind === k.kind)?.priority ?? 9;
      const endpoint = [...requests].reverse().find((r) => r.kind === k.kind && r.jobIds.length > 1)?.endpoint ?? k.kind;
      const n = Math.ceil(unplanned / k.fullBatch);
      for (let i = 0; i < n; i++)
        requests.push({ kind: k.kind, endpoint, priority, jobIds: [], refs: [], why: "full", notBefore: t, at: null, estimated: true });
      kp.requests += n;
    }
    kinds.push(kp);
  }
  const beyond = assignTokens(requests, d.budget, d.guardMs, d.now);
  const times = requests.map((r) => r.at).filter((at): at is number => at !== null);
  const throughAt = times.length ? Math.max(...times) : null;
  const windows = new Map<number, number>();
  for (const at of times) windows.set(windowStart(at, MINUTE), (windows.get(windowStart(at, MINUTE)) ?? 0) + 1);
  const waiting = kinds.reduce((n, k) => n + k.due + k.unrouted, 0);
  const plan: SendPlan = {
    generatedAt: d.now,
    limits: d.budget.limits,
    used: d.budget.used,
    pausedUntil: d.budget.pausedUntil > d.now ? d.budget.pausedUntil : null,
    pauseReason: d.budget.pausedUntil > d.now ? d.budget.pauseReason : null,
    kinds,
    requests,
    windows: [...windows].sort((a, b) => a[0] - b[0]).map(([start, n]) => ({ start, requests: n })),
    waiting,
    throughAt,
    beyondSimulation: beyond,
    summary: "",
  };
  plan.summary = planSummary(plan);
  return plan;
}

/**
 * The instant each request gets its token, in the order the limiter hands them out: the most
 * urgent ready request first, each admitted by the same rule as a real take (windows, the
 * share kept for orders, pauses, the boundary guard). Returns true when it stopped early.
 */
export function assignTokens(
  requests: { priority: number; notBefore: number; at: number | null }[],
  budget: Pick<BudgetSnapshot, "limits" | "used" | "pausedUntil" | "pauseReason">,
  guardMs: number,
  now: number,
): boolean {
  const counts = new Map<string, number>();
  const keyOf = (name: string, start: number) => `${name}:${start}`;
  for (const w of WINDOWS) counts.set(keyOf(w.name, windowStart(now, w.ms)), budget.used[w.name]);
  const usedAt = (at: number): WindowUse => ({
    minute: counts.get(keyOf("minute", windowStart(at, MINUTE))) ?? 0,
    hour: counts.get(keyOf("hour", windowStart(at, HOUR))) ?? 0,
    day: counts.get(keyOf("day", windowStart(at, DAY))) ?? 0,
  });
  const order = requests.map((_, i) => i).sort((a, b) => requests[a]!.notBefore - requests[b]!.notBefore || a - b);
  // Ready requests, one queue per priority (0..9): the limiter is a priority queue.
  const ready: number[][] = Array.from({ length: 10 }, () => []);
  const heads = new Array<number>(10).fill(0);
  let next = 0;
  let t = now;
  let assigned = 0;
  const bucket = (p: number) => Math.max(0, Math.min(9, p));
  while (assigned < requests.length) {
    if (assigned >= MAX_SIMULATED_REQUESTS) return true;
    while (next < order.length && requests[order[next]!]!.notBefore <= t) {
      const i = order[next++]!;
      ready[bucket(requests[i]!.priority)]!.push(i);
    }
    let wait = next < order.length ? requests[order[next]!]!.notBefore : Number.POSITIVE_INFINITY;
    let took = false;
    for (let p = 0; p < 10 && !took; p++) {
      if (heads[p]! >= ready[p]!.length) continue;
      const i = ready[p]![heads[p]!]!;
      const a = admission({
        at: t,
        used: usedAt(t),
        limits: budget.limits,
        reserve: reserveFor(requests[i]!.priority),
        pausedUntil: budget.pausedUntil,
        pauseReason: budget.pauseReason,
        guardMs,
      });
      if (a.ok) {
        requests[i]!.at = t;
        heads[p]!++;
        assigned++;
        for (const w of WINDOWS) {
          const key = keyOf(w.name, windowStart(t, w.ms));
          counts.set(key, (counts.get(key) ?? 0) + 1);
        }
        took = true;
      } else wait = Math.min(wait, a.until);
    }
    if (!took) {
      if (!Number.isFinite(wait)) return true;
      t = Math.max(t + 1, wait);
    }
  }
  return false;
}

/** "Rate budget used: 8/10 this minute, 8/1000 this hour, 8/10000 today" (the page and the command line). */
export function budgetUsedText(p: Pick<SendPlan, "used" | "limits">): string {
  const of = (used: number, limit: number) => `${used}/${Number.isFinite(limit) ? limit : "?"}`;
  const b = p.limits;
  return `Rate budget used: ${of(p.used.minute, b.perMinute)} this minute, ${of(p.used.hour, b.perHour)} this hour, ${of(p.used.day, b.perDay)} today`;
}

/** ERP references a request's line names before "… (+n)". */
const REFS_SHOWN = 5;

/** "SO-1, SO-2, SO-3, SO-4, SO-5 … (+45)": what a request carries, in one short line. */
export function refsText(refs: string[]): string {
  const more = refs.length - REFS_SHOWN;
  return refs.slice(0, REFS_SHOWN).join(", ") + (more > 0 ? ` … (+${more})` : "");
}

/** A backlog through within this is "within seconds"; later, the plan names the time. */
const SOON_MS = 10_000;

/** "412 waiting — all sent by 11:05:00 UTC at the current budget (9 requests)". */
export function planSummary(p: SendPlan): string {
  const sent = p.requests.length;
  if (!p.waiting) {
    const later = p.kinds.reduce((n, k) => n + k.later, 0);
    const next = Math.min(...p.kinds.map((k) => k.nextAt ?? Number.POSITIVE_INFINITY));
    return later
      ? `Nothing due now; ${plural(later, "change")} wait for a retry, the next at ${utc(next, p.generatedAt)}`
      : "Nothing waiting";
  }
  const head = `${p.waiting} waiting`;
  if (!sent) return `${head} — none of them needs a request to ZenFlow`;
  const paused = p.pausedUntil ? `; sending is paused until ${utc(p.pausedUntil, p.generatedAt)} (${p.pauseReason ?? "paused"})` : "";
  if (p.beyondSimulation || p.throughAt === null)
    return `${head} — ${plural(sent, "request")}, more than the budget allows in the foreseeable time${paused}`;
  const when = p.throughAt - p.generatedAt < SOON_MS && !p.pausedUntil ? "within seconds" : `by ${utc(p.throughAt, p.generatedAt)}`;
  return `${head} — all sent ${when} at the current budget (${plural(sent, "request")})${paused}`;
}

/** The last plan an ERP process computed on request (`zenflow-erp plan`), for readers without the ERP. */
export const PLAN_REPORT_KEY = kvKey<StoredPlan>("report:plan");
/** Requests a stored plan lists one by one; the windows and counts cover all of them. */
export const STORED_PLAN_REQUESTS = 500;

export type StoredPlan = Omit<SendPlan, "requests"> & { requests: PlannedSend[]; requestCount: number };

/** The plan as stored: every count, the first STORED_PLAN_REQUESTS requests. */
export function storedPlan(p: SendPlan): StoredPlan {
  return { ...p, requests: p.requests.slice(0, STORED_PLAN_REQUESTS), requestCount: p.requests.length };
}

export async function readStoredPlan(state: KvStore): Promise<StoredPlan | null> {
  return state.get(PLAN_REPORT_KEY);
}
