// The two halves of getting ERP changes into the outbox.
//
// append(): what an ERP event handler does — one INSERT into zenflow_event_log, a table
// with no secondary index, so the ERP's request pays what any single-row insert costs.
//
// route(): what the worker does before it claims work — moves a batch of log rows into
// zenflow_outbox in one transaction: drops events whose id was already seen, folds several
// changes to one entity into one job, merges them into the entity's live job (or flags a
// running job to run again), and deletes the routed rows.
import type { Knex } from "knex";
import type { Clock } from "../core/clock";
import { affected, isMysql, num, retryOnLockConflict } from "../core/dialect";
import type { JobInput, PayloadMerger } from "../jobs/job";
import { Table } from "../core/tables";

const LOG = Table.eventLog;
const OUTBOX = Table.outbox;

export interface EventLogOptions {
  /** The plugin's share of the pool: routing is background work. */
  db: Knex;
  /**
   * Where append() writes: the host's own knex. The insert is the ERP's request (an event
   * handler), so it must not queue behind the plugin's background statements.
   */
  appendDb?: Knex;
  clock: Clock;
  /** Per job kind; the default keeps the newer payload. */
  mergers?: Record<string, PayloadMerger>;
  /**
   * Per job kind: how long a new job waits before it is due, so that a burst of edits to one
   * product (or stock row) becomes one send. Fixed from the first change, never extended,
   * so an entity that keeps changing is still sent.
   */
  debounceMs?: Record<string, number>;
  /**
   * Per job kind: how a routed change is described in zenflow_history (outcome "received"),
   * dated when the ERP's event arrived, for the order timeline. Kinds without one (products,
   * stock: many more events, no timeline) write nothing.
   */
  arrivals?: Record<string, ArrivalDescriber>;
}

/** One line for a change that reached the plugin; `duplicate` when its event id was routed before. */
export type ArrivalDescriber = (change: { eventId: string | null; payload: unknown; duplicate: boolean }) => string;

interface LogRow {
  id: number;
  eventId: string | null;
  kind: string;
  entityKey: string;
  erpRef: string | null;
  payload: unknown;
  priority: number;
  receivedAt: number;
}

export class EventLog {
  private readonly db: Knex;
  private readonly appendDb: Knex;
  private readonly clock: Clock;
  private readonly mergers: Record<string, PayloadMerger>;
  private readonly debounceMs: Record<string, number>;
  private readonly arrivals: Record<string, ArrivalDescriber>;

  constructor(opts: EventLogOptions) {
    this.db = opts.db;
    this.appendDb = opts.appendDb ?? opts.db;
    this.clock = opts.clock;
    this.mergers = opts.mergers ?? {};
    this.debounceMs = opts.debounceMs ?? {};
    this.arrivals = opts.arrivals ?? {};
  }

  /** ERP changes not routed into the outbox yet, per kind (the plan view; routing may coalesce them). */
  async waitingByKind(): Promise<Map<string, number>> {
    const rows: { kind: string; n: unknown }[] = await this.db(LOG).select("kind").count({ n: "*" }).groupBy("kind");
    return new Map(rows.map((r) => [String(r.kind), num(r.n)]));
  }

  async append(job: JobInput, eventId?: string | null): Promise<void> {
    await this.appendDb(LOG).insert({
      event_id: eventId ?? null,
      kind: job.kind,
      entity_key: job.entityKey,
      erp_ref: job.erpRef ?? null,
      payload: JSON.stringify(job.payload),
      priority: job.priority,
      received_at: this.clock.now(),
    });
  }

  async appendMany(jobs: JobInput[]): Promise<void> {
    for (let i = 0; i < jobs.length; i += 200) {
      const now = this.clock.now();
      await this.db(LOG).insert(
        jobs.slice(i, i + 200).map((job) => ({
          event_id: null,
          kind: job.kind,
          entity_key: job.entityKey,
          erp_ref: job.erpRef ?? null,
          payload: JSON.stringify(job.payload),
          priority: job.priority,
          received_at: now,
        })),
      );
    }
  }

  /** Routes up to `limit` log rows into the outbox. Returns how many rows it consumed. */
  async route(limit = 500): Promise<number> {
    const mysql = isMysql(this.db);
    return retryOnLockConflict(() =>
      this.db.transaction(
        async (trx) => {
          const q = trx(LOG).select("*").orderBy("id").limit(limit);
          // Routers take turns (a plain FOR UPDATE; SQLite has one writer anyway): two routing
          // the same entity at once could let an older change overwrite a newer one. A route
          // lasts milliseconds, and under READ COMMITTED it does not block the hooks' inserts.
          const raw: Record<string, unknown>[] = await (mysql ? q.forUpdate() : q);
          if (!raw.length) return 0;
          const rows = raw.map(toLogRow);
          const fresh = await this.dropSeen(trx, rows);
          await this.recordArrivals(trx, rows, new Set(fresh.map((r) => r.id)));
          await this.merge(trx, fold(fresh, this.mergers));
          await trx(LOG)
            .whereIn(
              "id",
              rows.map((r) => r.id),
            )
            .delete();
          return rows.length;
        },
        mysql ? { isolationLevel: "read committed" } : undefined,
      ),
    );
  }

  /** History lines for the routed changes of kinds that have a describer, in the routing's transaction. */
  private async recordArrivals(trx: Knex.Transaction, rows: LogRow[], fresh: Set<number>): Promise<void> {
    const lines: Record<string, unknown>[] = [];
    for (const r of rows) {
      const describe = this.arrivals[r.kind];
      if (!describe) continue;
      lines.push({
        entity_key: r.entityKey,
        erp_ref: r.erpRef,
        kind: r.kind,
        outcome: "received",
        message: describe({ eventId: r.eventId, payload: r.payload, duplicate: !fresh.has(r.id) }),
        at: r.receivedAt,
      });
    }
    for (let i = 0; i < lines.length; i += 200) await trx(Table.history).insert(lines.slice(i, i + 200));
  }

  /** Removes events already routed before (a host delivering one event twice), and records the new ids. */
  private async dropSeen(trx: Knex.Transaction, rows: LogRow[]): Promise<LogRow[]> {
    const ids = [...new Set(rows.map((r) => r.eventId).filter((e): e is string => !!e))];
    if (!ids.length) return rows;
    const seen = new Set<string>();
    for (let i = 0; i < ids.length; i += 500) {
      const found = await trx(Table.seenEvents)
        .whereIn("event_id", ids.slice(i, i + 500))
        .select("event_id");
      found.forEach((f: { event_id: string }) => seen.add(f.event_id));
    }
    const now = this.clock.now();
    const out: LogRow[] = [];
    for (const r of rows) {
      if (r.eventId) {
        if (seen.has(r.eventId)) continue;
        seen.add(r.eventId);
      }
      out.push(r);
    }
    const newIds = ids.filter((id) => out.some((r) => r.eventId === id));
    for (let i = 0; i < newIds.length; i += 200) {
      await trx(Table.seenEvents)
        .insert(newIds.slice(i, i + 200).map((event_id) => ({ event_id, seen_at: now })))
        .onConflict("event_id")
        .ignore();
    }
    return out;
  }

  /** One live job per entity: merge into it, flag it to run again if it is running, or create it. */
  private async merge(trx: Knex.Transaction, jobs: LogRow[]): Promise<void> {
    if (!jobs.length) return;
    const now = this.clock.now();
    const live = new Map<string, Record<string, unknown>>();
    const keys = jobs.map((j) => j.entityKey);
    for (let i = 0; i < keys.length; i += 500) {
      const rows = await trx(OUTBOX)
        .whereIn("active_key", keys.slice(i, i + 500))
        .select("id", "active_key", "payload", "status", "priority", "source_seq");
      rows.forEach((r: Record<string, unknown>) => live.set(String(r.active_key), r));
    }
    const inserts: Record<string, unknown>[] = [];
    const fresh = (job: LogRow) => ({
      kind: job.kind,
      entity_key: job.entityKey,
      erp_ref: job.erpRef,
      active_key: job.entityKey,
      payload: JSON.stringify(job.payload),
      source_seq: job.id,
      status: "pending",
      priority: job.priority,
      attempts: 0,
      rerun: false,
      run_at: now + (this.debounceMs[job.kind] ?? 0),
      created_at: now,
      updated_at: now,
    });
    for (const job of jobs) {
      const existing = live.get(job.entityKey);
      if (!existing) {
        inserts.push(fresh(job));
        continue;
      }
      const merger = this.mergers[job.kind] ?? ((_o: unknown, n: unknown) => n);
      // Merge in log order, whichever change this router saw first.
      const existingSeq = existing.source_seq == null ? 0 : num(existing.source_seq);
      const payload = job.id >= existingSeq ? merger(parse(existing.payload), job.payload) : merger(job.payload, parse(existing.payload));
      // The UPDATE itself checks the job is still live and whether it is running: a worker
      // may claim or finish it between the read above and this write.
      const n = await trx(OUTBOX)
        .where({ id: num(existing.id), active_key: job.entityKey })
        .update({
          payload: JSON.stringify(payload),
          source_seq: Math.max(existingSeq, job.id),
          erp_ref: job.erpRef,
          priority: Math.min(num(existing.priority), job.priority),
          updated_at: now,
          // A running job sends the state it read when it started: it must run once more.
          rerun: trx.raw("CASE WHEN status = 'running' THEN 1 ELSE rerun END"),
        } as Record<string, unknown>);
      // Finished meanwhile: this change is a job of its own.
      if (!affected(n)) inserts.push(fresh(job));
    }
    for (let i = 0; i < inserts.length; i += 200) await trx(OUTBOX).insert(inserts.slice(i, i + 200));
  }

  async pending(): Promise<number> {
    const r = await this.db(LOG).count({ n: "*" }).first();
    return num(r?.n);
  }
}

/** Several changes to one entity in one batch become one job (in log order). */
function fold(rows: LogRow[], mergers: Record<string, PayloadMerger>): LogRow[] {
  const byKey = new Map<string, LogRow>();
  for (const r of rows) {
    const prev = byKey.get(r.entityKey);
    if (!prev) {
      byKey.set(r.entityKey, { ...r });
      continue;
    }
    const merger = mergers[r.kind] ?? ((_o: unknown, n: unknown) => n);
    byKey.set(r.entityKey, { ...r, payload: merger(prev.payload, r.payload), priority: Math.min(prev.priority, r.priority) });
  }
  return [...byKey.values()];
}

function parse(v: unknown): unknown {
  try {
    return JSON.parse(String(v));
  } catch {
    return null;
  }
}

function toLogRow(r: Record<string, unknown>): LogRow {
  return {
    id: num(r.id),
    eventId: (r.event_id as string | null) ?? null,
    kind: String(r.kind),
    entityKey: String(r.entity_key),
    erpRef: (r.erp_ref as string | null) ?? null,
    payload: parse(r.payload),
    priority: num(r.priority),
    receivedAt: num(r.received_at),
  };
}
