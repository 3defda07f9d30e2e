// The command line's subcommands. Each returns its exit code and writes results to `out`
// (stdout: what scripts read) and progress and advice to `err` (stderr: for people).
import type { Knex } from "knex";
import { isoOrNull, oneLine, plural, utc, utcFull } from "../admin/format";
import { orderTimeline } from "../admin/order-timeline";
import { RUN_LABELS, latestBudget } from "../admin/queries";
import type { Clock } from "../core/clock";
import { History } from "../core/history";
import {
  type AdminOpsDeps,
  type DeadLetterRef,
  formatDeadLetterRef,
  replayWebhook,
  retryAllDeadLetters,
  retryDeadLetter,
} from "../outbox/admin-ops";
import { type Progress, type RunName, pendingRequest, readProgress, requestRun } from "../core/runs";
import type { KvStore } from "../core/kv-store";
import { ProgressPrinter, type TextSink } from "./progress-bar";
import { resumeSending } from "../budget/shared-budget";
import { printable } from "../core/text";
import { formatStatus, readStatus } from "./status";

export const EXIT = { ok: 0, failure: 1, usage: 2, database: 3 } as const;

export interface CliContext {
  db: Knex;
  state: KvStore;
  clock: Clock;
  json: boolean;
  out: (text: string) => void;
  err: TextSink;
  /** Who asked, for the request record and the history ("command line (user@host)"). */
  actor: string;
}

export class CliUsageError extends Error {}

function ops(c: CliContext): AdminOpsDeps {
  return { db: c.db, clock: c.clock, history: new History(c.db, c.clock) };
}

function printJson(c: CliContext, value: unknown): void {
  c.out(`${JSON.stringify(value, null, 2)}\n`);
}

export async function statusCommand(c: CliContext): Promise<number> {
  const s = await readStatus(c.db, c.state, c.clock);
  if (c.json) printJson(c, s);
  else c.out(`${formatStatus(s, c.clock.now())}\n`);
  // Scripts and monitors: anything but "ok" needs a person.
  return s.status === "ok" ? EXIT.ok : EXIT.failure;
}

export async function retryDeadCommand(c: CliContext, which: DeadLetterRef[] | "all"): Promise<number> {
  if (which === "all") {
    const s = await retryAllDeadLetters(ops(c));
    if (c.json) printJson(c, { retried: s.retried, superseded: s.superseded, items: s.items });
    else if (!s.retried && !s.superseded) c.out("There are no dead letters to retry.\n");
    else {
      const newer = s.superseded ? ` (${s.superseded} already had a newer change waiting, which is sent instead)` : "";
      c.out(`Retrying ${plural(s.retried + s.superseded, "dead letter")}${newer}. A running ERP process sends them within seconds.\n`);
    }
    return EXIT.ok;
  }
  const refs = which;
  const items = [];
  for (const ref of refs) {
    const r = await retryDeadLetter(ops(c), ref);
    items.push({ job: formatDeadLetterRef(ref), erpRef: r.erpRef, outcome: r.outcome });
  }
  if (c.json) printJson(c, { items });
  else
    for (const i of items) {
      const what = i.erpRef ? `${i.job} (${printable(i.erpRef)})` : i.job;
      c.out(
        i.outcome === "retried"
          ? `${what}: retrying now\n`
          : i.outcome === "superseded"
            ? `${what}: a newer change for it was already waiting; that one is sent instead\n`
            : `${what}: not a dead letter (unknown, already retried or discarded); nothing changed\n`,
      );
    }
  return items.every((i) => i.outcome !== "not_dead") ? EXIT.ok : EXIT.failure;
}

export async function replayWebhookCommand(c: CliContext, eventId: string): Promise<number> {
  const outcome = await replayWebhook(ops(c), eventId);
  if (c.json) printJson(c, { eventId, outcome });
  else
    c.out(
      outcome === "replayed"
        ? `Webhook ${printable(eventId)} will be processed again by a running ERP process.\n`
        : outcome === "already_waiting"
          ? `Webhook ${printable(eventId)} is already waiting to be processed; nothing changed.\n`
          : `No webhook with event id ${printable(eventId)} was received (or it was purged after the retention period).\n`,
    );
  return outcome === "not_found" ? EXIT.failure : EXIT.ok;
}

/** Lifts a Retry-After pause in the shared budget: every ERP process may send again at once. */
export async function resumeCommand(c: CliContext): Promise<number> {
  const rows = await resumeSending(c.db, c.clock.now());
  if (c.json) printJson(c, { resumed: rows > 0, rows });
  else
    c.out(
      rows
        ? "Sending resumed: the pause ZenFlow asked for is lifted for every ERP process (the rate budget still applies).\n"
        : "Sending was not paused; nothing changed.\n",
    );
  return EXIT.ok;
}

/**
 * One order's timeline from the plugin's tables (the CLI cannot ask the ERP: an order that
 * never reached the plugin is unknown here). Times in UTC: the ERP's zone is the ERP's.
 */
export async function lookupCommand(c: CliContext, query: string): Promise<number> {
  const now = c.clock.now();
  const t = await orderTimeline({ db: c.db, erp: null, now, budget: await latestBudget(c.db, now) }, query);
  if (c.json)
    printJson(c, {
      ...t,
      entries: t.entries.map((e) => ({ ...e, at: isoOrNull(e.at) })),
    });
  else {
    const lines = t.order
      ? [
          `Order ${printable(t.order.number)}${t.order.zenflowId ? ` (ZenFlow ${printable(t.order.zenflowId)})` : ""}`,
          `What now: ${printable(t.whatNow.text)}`,
          "",
          ...t.entries.map((e) => {
            const head = printable(`${utcFull(e.at)}  ${e.title}${e.outcome ? ` [${e.outcome}]` : ""}`);
            return e.detail ? `${head}\n    ${printable(oneLine(e.detail, 600))}` : head;
          }),
          t.omitted ? `(the newest ${t.entries.length} entries)` : "",
        ]
      : [printable(t.whatNow.text)];
    c.out(`${lines.join("\n").trimEnd()}\n`);
  }
  return t.order ? EXIT.ok : EXIT.failure;
}

export interface FollowOptions {
  wait: boolean;
  timeoutMs: number | null;
  pollMs: number;
  /** sync-stock-anyway: the request carries the one-time drift guard override. */
  ignoreDriftGuard?: boolean;
  /** How people call the run (default: RUN_LABELS). */
  label?: string;
  /** What to print when the run has ended (default: its progress). */
  onEnd?: (c: CliContext, p: Progress) => Promise<number>;
}

/** Asks the running plugin for a catalog import or stock sync, then shows its progress until it ends. */
export async function runCommand(c: CliContext, name: RunName, o: FollowOptions): Promise<number> {
  const label = o.label ?? RUN_LABELS[name] ?? name;
  const printer = new ProgressPrinter(c.err);
  const now = c.clock.now();
  const [pending, current] = await Promise.all([pendingRequest(c.state, name), readProgress(c.state, name)]);
  let since: number;
  // A run survives the CLI and ERP restarts, and resumes only under the request that started
  // it: a request already there (waiting or in progress) is followed, never replaced.
  const running = current && current.status === "running" && now - current.updatedAt < 5 * 60_000;
  if (pending || running) {
    since = pending ? pending.requestedAt : current!.startedAt;
    // sync-stock-anyway on a waiting request: the same request, now with the override (a run
    // already past its comparison is not affected; the message below says it is running).
    if (pending && o.ignoreDriftGuard && !pending.ignoreDriftGuard) {
      await requestRun(c.state, name, pending.by, pending.requestedAt, { ignoreDriftGuard: true });
    }
    const what = running
      ? `${label} is already running (started ${utc(current!.startedAt, now)})`
      : `${label} was already requested (${utc(pending!.requestedAt, now)}, by ${pending!.by})`;
    if (!o.wait) {
      if (c.json) printJson(c, { run: name, requested: false, alreadyRequested: !!pending, alreadyRunning: !!running, progress: current });
      else c.out(`${what}.\n`);
      return EXIT.ok;
    }
    printer.note(`${what}; following it.`);
  } else {
    await requestRun(c.state, name, c.actor, now, o.ignoreDriftGuard ? { ignoreDriftGuard: true } : {});
    since = now;
    if (!o.wait) {
      if (c.json) printJson(c, { run: name, requested: true, requestedAt: new Date(now).toISOString() });
      else
        c.out(
          `${label} requested; a running ERP process with the plugin starts it within seconds. Watch it with \`zenflow-erp ${name}\`.\n`,
        );
      return EXIT.ok;
    }
    printer.note(`${label} requested; waiting for an ERP process to start it. Ctrl-C stops watching, not the ${label.toLowerCase()}.`);
  }
  let warned = false;
  for (;;) {
    const p = await readProgress(c.state, name);
    if (p && p.updatedAt >= since) {
      printer.show(label, p);
      if (p.status === "done" || p.status === "failed" || p.status === "stopped") {
        printer.end();
        return o.onEnd ? o.onEnd(c, p) : finish(c, name, label, p);
      }
    } else if (!warned && c.clock.now() - since > 30_000) {
      warned = true;
      printer.note("No ERP process has started it yet: is the ERP running with the ZenFlow plugin enabled and configured? Still waiting.");
    }
    if (o.timeoutMs !== null && c.clock.now() - since > o.timeoutMs) {
      printer.note(
        `Stopped watching after ${Math.round(o.timeoutMs / 1000)} s; the ${label.toLowerCase()} goes on. Check it with \`zenflow-erp status\`.`,
      );
      if (c.json) printJson(c, { run: name, status: p && p.updatedAt >= since ? p.status : "requested", progress: p });
      return EXIT.failure;
    }
    await c.clock.sleep(o.pollMs);
  }
}

function finish(c: CliContext, name: RunName, label: string, p: Progress): number {
  if (c.json)
    printJson(c, { run: name, ...p, startedAt: new Date(p.startedAt).toISOString(), updatedAt: new Date(p.updatedAt).toISOString() });
  else {
    const amount = p.total ? `${p.done} of ${p.total}` : `${p.done}`;
    c.out(
      p.status === "done"
        ? `${label} finished: ${amount} done, ${plural(p.errors, "error")}.${p.message ? ` ${printable(p.message)}` : ""}\n`
        : p.status === "stopped"
          ? `${label} ${printable(p.message ?? "stopped")}\n`
          : `${label} failed after ${amount}: ${printable(p.message ?? "no reason recorded")}. Running it again resumes where it stopped.\n`,
    );
  }
  return p.status === "done" ? EXIT.ok : EXIT.failure;
}
