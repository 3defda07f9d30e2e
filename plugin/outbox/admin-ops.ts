// What an admin may do to stuck work, from the dashboard, the config screen's action or
// the command line: retry or discard dead letters, and replay a received webhook. These
// functions only change rows; the running plugin's workers pick the rows up, so the CLI
// can use them without the API key and without a running engine.
import type { Knex } from "knex";
import type { Clock } from "../core/clock";
import { affected, isUniqueViolation, num, retryOnLockConflict } from "../core/dialect";
import type { History } from "../core/history";
import { Table } from "../core/tables";

export type QueueName = "outbox" | "inbox";
type QueueTable = (typeof Table)["outbox" | "inbox"];

export const QUEUE_TABLES: Record<QueueName, QueueTable> = {
  outbox: Table.outbox,
  inbox: Table.inbox,
};

export interface AdminOpsDeps {
  db: Knex;
  clock: Clock;
  history: History;
}

export interface DeadLetterRef {
  queue: QueueName;
  id: number;
}

/**
 * retried: back to pending, due now, with a fresh attempt count.
 * superseded: a newer job for the same entity was already waiting or running; it sends the
 *   entity's current state, which is what the retry would have sent, so it is made due now instead.
 * not_dead: no such dead letter (already retried, discarded or never dead).
 */
export type RetryOutcome = "retried" | "superseded" | "not_dead";

export interface RetrySummary {
  retried: number;
  superseded: number;
  notDead: number;
  items: { queue: QueueName; id: number; erpRef: string | null; outcome: RetryOutcome }[];
}

/** "outbox:12", "inbox:7" or a bare id (the outbox, where almost all dead letters live). */
export function parseDeadLetterRef(text: string): DeadLetterRef | null {
  const m = /^(?:(outbox|inbox):)?(\d{1,15})$/.exec(text.trim());
  if (!m) return null;
  return { queue: (m[1] as QueueName | undefined) ?? "outbox", id: Number(m[2]) };
}

export function formatDeadLetterRef(ref: DeadLetterRef): string {
  return `${ref.queue}:${ref.id}`;
}

type Row = Record<string, unknown>;

/** A row put back in its queue by an admin: due now, with a fresh attempt count. */
function dueNowAfresh(now: number): Row {
  return {
    status: "pending",
    attempts: 0,
    deferrals: 0,
    run_at: now,
    rerun: false,
    locked_by: null,
    lease_until: null,
    finished_at: null,
    updated_at: now,
  };
}

async function retryRow(deps: AdminOpsDeps, queue: QueueName, row: Row): Promise<RetryOutcome> {
  const { db, clock } = deps;
  const table = QUEUE_TABLES[queue];
  const id = num(row.id);
  const now = clock.now();
  const back = dueNowAfresh(now);
  // The outbox allows one live job per entity (unique active_key). Rather than check first
  // and race the router, let the constraint decide.
  if (queue === "outbox") back.active_key = row.entity_key;
  try {
    const n = await retryOnLockConflict(() => db(table).where({ id, status: "dead" }).update(back));
    return affected(n) ? "retried" : "not_dead";
  } catch (err) {
    if (queue !== "outbox" || !isUniqueViolation(err)) throw err;
    return supersede(deps, row, now);
  }
}

async function supersede(deps: AdminOpsDeps, row: Row, now: number): Promise<RetryOutcome> {
  const { db } = deps;
  const n = await retryOnLockConflict(() =>
    db(Table.outbox)
      .where({ id: num(row.id), status: "dead" })
      .update({ status: "superseded", updated_at: now }),
  );
  if (!affected(n)) return "not_dead";
  // The admin asked for an attempt now: a live job that is waiting out a backoff goes now.
  await retryOnLockConflict(() =>
    db(Table.outbox)
      .where({ active_key: String(row.entity_key), status: "pending" })
      .andWhere("run_at", ">", now)
      .update({ run_at: now, updated_at: now }),
  );
  return "superseded";
}

export async function retryDeadLetter(deps: AdminOpsDeps, ref: DeadLetterRef): Promise<{ outcome: RetryOutcome; erpRef: string | null }> {
  const row: Row | undefined = await deps.db(QUEUE_TABLES[ref.queue]).where({ id: ref.id }).first();
  if (!row || row.status !== "dead") return { outcome: "not_dead", erpRef: row ? erpRefOf(row) : null };
  return { outcome: await retryRow(deps, ref.queue, row), erpRef: erpRefOf(row) };
}

/** Retries every dead letter (of one queue, or both). Per entity only the newest is retried; older ones are superseded by it. */
export async function retryAllDeadLetters(deps: AdminOpsDeps, queues: QueueName[] = ["outbox", "inbox"]): Promise<RetrySummary> {
  const summary: RetrySummary = { retried: 0, superseded: 0, notDead: 0, items: [] };
  for (const queue of queues) {
    const table = QUEUE_TABLES[queue];
    const handled = new Set<string>();
    let below = Number.MAX_SAFE_INTEGER;
    for (;;) {
      // Newest first, in pages: the status prefix of the claim index finds the dead rows.
      const rows: Row[] = await deps.db(table).where("status", "dead").andWhere("id", "<", below).orderBy("id", "desc").limit(500);
      if (!rows.length) break;
      for (const row of rows) {
        const key = row.entity_key == null ? null : String(row.entity_key);
        let outcome: RetryOutcome;
        if (queue === "outbox" && key !== null && handled.has(key)) outcome = await supersede(deps, row, deps.clock.now());
        else outcome = await retryRow(deps, queue, row);
        if (key !== null) handled.add(key);
        if (outcome === "retried") summary.retried++;
        else if (outcome === "superseded") summary.superseded++;
        else summary.notDead++;
        summary.items.push({ queue, id: num(row.id), erpRef: erpRefOf(row), outcome });
      }
      below = num(rows[rows.length - 1]!.id);
    }
  }
  return summary;
}

/** Gives up on a dead letter for good; the history keeps who did it and what the last error was. */
export async function discardDeadLetter(
  deps: AdminOpsDeps,
  ref: DeadLetterRef,
  by: string,
): Promise<{ discarded: boolean; erpRef: string | null }> {
  const { db, clock, history } = deps;
  const table = QUEUE_TABLES[ref.queue];
  const row: Row | undefined = await db(table).where({ id: ref.id }).first();
  if (!row || row.status !== "dead") return { discarded: false, erpRef: row ? erpRefOf(row) : null };
  const now = clock.now();
  const n = await retryOnLockConflict(() =>
    db(table).where({ id: ref.id, status: "dead" }).update({ status: "discarded", finished_at: now, updated_at: now }),
  );
  if (!affected(n)) return { discarded: false, erpRef: erpRefOf(row) };
  const kind = String(row.kind ?? row.event ?? ref.queue);
  await history.record([
    {
      entityKey: row.entity_key == null ? `${kind}:${ref.id}` : String(row.entity_key),
      erpRef: erpRefOf(row),
      kind,
      outcome: "discarded",
      message: `Discarded by ${by}. Last error: ${String(row.last_error ?? "none recorded")}`,
      jobId: ref.id,
    },
  ]);
  return { discarded: true, erpRef: erpRefOf(row) };
}

export type ReplayOutcome = "replayed" | "already_waiting" | "not_found";

/** Processes a received webhook again (whatever became of it), e.g. after fixing a mapping. */
export async function replayWebhook(deps: AdminOpsDeps, eventId: string): Promise<ReplayOutcome> {
  const { db, clock } = deps;
  const row: Row | undefined = await db(Table.inbox).where({ event_id: eventId }).first();
  if (!row) return "not_found";
  if (row.status === "pending" || row.status === "running") return "already_waiting";
  const now = clock.now();
  const n = await retryOnLockConflict(() =>
    db(Table.inbox)
      .where({ id: num(row.id), status: String(row.status) })
      .update(dueNowAfresh(now)),
  );
  return affected(n) ? "replayed" : "already_waiting";
}

function erpRefOf(row: Row): string | null {
  return typeof row.erp_ref === "string" ? row.erp_ref : null;
}
