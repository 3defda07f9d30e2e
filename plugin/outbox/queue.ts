// A durable job queue in a database table (the outbox, and the inbox of webhooks).
// Delivery is at least once: a job is claimed with a lease, a crashed worker's lease
// expires and the job is claimed again. One live job per entity (active_key) turns
// repeated changes into one send, and the `rerun` flag re-runs a job whose entity
// changed while it was being sent.
import type { Knex } from "knex";
import type { Clock } from "../core/clock";
import { affected, isMysql, isUniqueViolation, num, retryOnLockConflict } from "../core/dialect";
import type { Table } from "../core/tables";

export type JobStatus = "pending" | "running" | "done" | "dead" | "superseded" | "ignored" | "unmatched" | "discarded";

export interface QueueJob {
  id: number;
  kind: string;
  entityKey: string | null;
  erpRef: string | null;
  payload: unknown;
  attempts: number;
  priority: number;
  runAt: number;
  createdAt: number;
  lockedBy: string;
  lastError: string | null;
  lastErrorCode: string | null;
  /** Failures so far that used no attempt (pauses, contention). */
  deferrals: number;
}

export interface QueueOptions {
  db: Knex;
  /** For heartbeats, ahead of background statements: a lease that lapses while its job runs is work done twice. */
  urgentDb?: Knex;
  table: (typeof Table)["outbox" | "inbox"];
  clock: Clock;
  workerId: string;
  leaseMs: number;
  /**
   * One live job per entity (the outbox): `active_key` is cleared when a job finishes, and
   * a job that succeeds retires its entity's dead letters. The inbox keeps every event.
   */
  activeKey: boolean;
}

export class JobQueue {
  readonly table: string;
  private readonly db: Knex;
  private readonly urgentDb: Knex;
  private readonly clock: Clock;
  private readonly workerId: string;
  private readonly leaseMs: number;
  private readonly activeKey: boolean;
  private claimSeq = 0;
  private skipLocked: boolean | null = null;

  constructor(opts: QueueOptions) {
    this.db = opts.db;
    this.urgentDb = opts.urgentDb ?? opts.db;
    this.table = opts.table;
    this.clock = opts.clock;
    this.workerId = opts.workerId;
    this.leaseMs = opts.leaseMs;
    this.activeKey = opts.activeKey;
  }

  private clearActiveKey(): { active_key?: null } {
    return this.activeKey ? { active_key: null } : {};
  }

  /** Which of these entity keys have a job waiting or running (outbox only). */
  async liveKeys(entityKeys: string[]): Promise<Set<string>> {
    const out = new Set<string>();
    for (let i = 0; i < entityKeys.length; i += 500) {
      const rows: { active_key: string }[] = await this.db(this.table)
        .whereIn("active_key", entityKeys.slice(i, i + 500))
        .select("active_key");
      rows.forEach((r) => out.add(r.active_key));
    }
    return out;
  }

  /**
   * The newest dead letter of each of these entities (outbox only): a reconciliation must not
   * queue a change that was refused again and again without anything having changed since.
   */
  async deadLetters(entityKeys: string[]): Promise<Map<string, { diedAt: number; payload: unknown }>> {
    const out = new Map<string, { diedAt: number; payload: unknown }>();
    for (let i = 0; i < entityKeys.length; i += 500) {
      const rows: Record<string, unknown>[] = await this.db(this.table)
        .where("status", "dead")
        .whereIn("entity_key", entityKeys.slice(i, i + 500))
        .select("entity_key", "finished_at", "updated_at", "payload");
      for (const r of rows) {
        const key = String(r.entity_key);
        const diedAt = num(r.finished_at ?? r.updated_at);
        if ((out.get(key)?.diedAt ?? -1) < diedAt) out.set(key, { diedAt, payload: toJob(r).payload });
      }
    }
    return out;
  }

  /** Inserts an inbox row; false when the event id is already there (a duplicate delivery). */
  async insertUnique(row: Record<string, unknown>): Promise<boolean> {
    try {
      await this.db(this.table).insert(row);
      return true;
    } catch (err) {
      if (isUniqueViolation(err)) return false;
      throw err;
    }
  }

  private async canSkipLocked(): Promise<boolean> {
    if (this.skipLocked !== null) return this.skipLocked;
    // SKIP LOCKED exists from MariaDB 10.6 and MySQL 8.0.
    const [rows] = (await this.db.raw("SELECT VERSION() AS v")) as [Array<{ v: string }>];
    const v = String(rows[0]?.v ?? "");
    const [major = 0, minor = 0] = v.split(/[.-]/).map(Number);
    this.skipLocked = /mariadb/i.test(v) ? major > 10 || (major === 10 && minor >= 6) : major >= 8;
    return this.skipLocked;
  }

  /**
   * The due jobs a claim would take, in claim order, without taking them: the worker's
   * batch-hold decision and the plan view read the same rows the next claim locks.
   */
  private pickDue(
    q: Knex.QueryBuilder,
    now: number,
    limit: number,
    kinds: string[] | undefined,
    columns: string[],
    ids?: number[],
  ): Knex.QueryBuilder {
    // MariaDB: the locking read must walk the claim index in claim order and stop at the
    // LIMIT. Left to itself, on a table of mostly pending rows the optimiser scans and sorts,
    // locking every row it read, and another process claiming at the same moment skips them
    // all and gets nothing. The index with the kind serves a one-kind claim (what the
    // worker makes); claims over several kinds walk the older index.
    const index = kinds?.length === 1 ? `${this.table}_claim_kind_idx` : `${this.table}_claim_idx`;
    q.select(columns)
      .from(isMysql(this.db) ? this.db.raw("?? FORCE INDEX (??)", [this.table, index]) : this.table)
      .where("status", "pending")
      .andWhere("run_at", "<=", now);
    if (kinds?.length) q.whereIn("kind", kinds);
    if (ids) q.whereIn("id", ids);
    return q.orderBy([{ column: "priority" }, { column: "run_at" }, { column: "id" }]).limit(limit);
  }

  /** How many jobs of a kind are due (counted up to `limit`) and since when the oldest of them is. */
  async dueSummary(kind: string, limit: number): Promise<{ count: number; oldestDueAt: number | null }> {
    const rows: Array<{ run_at: unknown }> = await this.pickDue(this.db.queryBuilder(), this.clock.now(), limit, [kind], ["run_at"]);
    return { count: rows.length, oldestDueAt: rows.length ? Math.min(...rows.map((r) => num(r.run_at))) : null };
  }

  /** Jobs of a kind created since each of these instants (any status): the demand of the last moments, across every process. */
  async arrivals(kind: string, since: { long: number; short: number }): Promise<{ long: number; short: number }> {
    const row = await this.db(this.table)
      .where("kind", kind)
      .andWhere("created_at", ">=", Math.min(since.long, since.short))
      .select(
        this.db.raw("SUM(CASE WHEN created_at >= ? THEN 1 ELSE 0 END) AS l", [since.long]),
        this.db.raw("SUM(CASE WHEN created_at >= ? THEN 1 ELSE 0 END) AS s", [since.short]),
      )
      .first();
    const r = (row ?? {}) as { l?: unknown; s?: unknown };
    return { long: num(r.l ?? 0), short: num(r.s ?? 0) };
  }

  /**
   * A kind's live jobs (the plan view): due now, waiting for a later time (a retry's backoff,
   * a debounce) with the next of those, and being sent now.
   */
  async pendingSummary(kind: string): Promise<{ due: number; later: number; nextAt: number | null; running: number }> {
    const now = this.clock.now();
    const row = (await this.db(this.table)
      .where("kind", kind)
      .whereIn("status", ["pending", "running"])
      .select(
        this.db.raw("SUM(CASE WHEN status = 'pending' AND run_at <= ? THEN 1 ELSE 0 END) AS due", [now]),
        this.db.raw("SUM(CASE WHEN status = 'pending' AND run_at > ? THEN 1 ELSE 0 END) AS later", [now]),
        this.db.raw("MIN(CASE WHEN status = 'pending' AND run_at > ? THEN run_at END) AS next_at", [now]),
        this.db.raw("SUM(CASE WHEN status = 'running' THEN 1 ELSE 0 END) AS running"),
      )
      .first()) as Record<string, unknown> | undefined;
    return {
      due: num(row?.due ?? 0),
      later: num(row?.later ?? 0),
      nextAt: row?.next_at == null ? null : num(row.next_at),
      running: num(row?.running ?? 0),
    };
  }

  /** Due jobs in claim order, as a claim would return them, without claiming them (the plan view). */
  async peekDue(kind: string, limit: number): Promise<QueueJob[]> {
    const rows: Record<string, unknown>[] = await this.pickDue(this.db.queryBuilder(), this.clock.now(), limit, [kind], ["*"]);
    return rows.map((r) => toJob(r));
  }

  /**
   * Puts claimed jobs back as they were, as if never claimed: no attempt used, the same due
   * time (a partial batch that another process's claim left behind waits for company).
   */
  async unclaim(jobs: QueueJob[]): Promise<void> {
    for (const group of groupByToken(jobs)) {
      await retryOnLockConflict(() =>
        this.db(this.table)
          .whereIn(
            "id",
            group.map((j) => j.id),
          )
          .andWhere({ locked_by: group[0]!.lockedBy, status: "running" })
          .update({
            status: "pending",
            locked_by: null,
            lease_until: null,
            rerun: false,
            attempts: this.db.raw("CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END"),
            updated_at: this.clock.now(),
          }),
      );
    }
  }

  /** Claims up to `limit` due jobs, highest priority first, for this worker. */
  /** Claims up to `limit` due jobs of these kinds (only those of `ids`, when given), in claim order. */
  async claim(limit: number, kinds?: string[], ids?: number[]): Promise<QueueJob[]> {
    if (ids && !ids.length) return [];
    const now = this.clock.now();
    const token = `${this.workerId}#${++this.claimSeq}`;
    const leaseUntil = now + this.leaseMs;
    const mysql = isMysql(this.db);
    const pick = (q: Knex.QueryBuilder) => this.pickDue(q, now, limit, kinds, ["id"], ids);
    const set = { status: "running", locked_by: token, lease_until: leaseUntil, updated_at: now, attempts: this.db.raw("attempts + 1") };

    if (mysql) {
      const skip = await this.canSkipLocked();
      // READ COMMITTED: no gap locks on the claim index, which is what made two workers
      // claiming at once deadlock under the default REPEATABLE READ.
      await retryOnLockConflict(() =>
        this.db.transaction(
          async (trx) => {
            const q = pick(trx.queryBuilder());
            const rows: Array<{ id: unknown }> = await (skip ? q.forUpdate().skipLocked() : q.forUpdate());
            if (!rows.length) return;
            await trx(this.table)
              .whereIn(
                "id",
                rows.map((r) => num(r.id)),
              )
              .andWhere("status", "pending")
              .update(set);
          },
          { isolationLevel: "read committed" },
        ),
      );
    } else {
      // SQLite has a single writer: one UPDATE … WHERE id IN (subquery) is atomic.
      await retryOnLockConflict(() =>
        this.db(this.table).whereIn("id", pick(this.db.queryBuilder())).andWhere("status", "pending").update(set),
      );
    }
    const rows = await this.db(this.table)
      .where({ locked_by: token, status: "running" })
      .orderBy([{ column: "priority" }, { column: "run_at" }, { column: "id" }]);
    return rows.map((r: Record<string, unknown>) => toJob(r));
  }

  /** Extends the lease of jobs still held by these claims. */
  async heartbeat(tokens: string[]): Promise<void> {
    if (!tokens.length) return;
    await retryOnLockConflict(() =>
      this.urgentDb(this.table)
        .whereIn("locked_by", tokens)
        .andWhere("status", "running")
        .update({ lease_until: this.clock.now() + this.leaseMs }),
    );
  }

  /** Marks jobs done; a job whose entity changed meanwhile (rerun) goes back to pending instead. */
  async complete(jobs: QueueJob[], extra: { zenflowIds?: Map<number, string | undefined> } = {}): Promise<void> {
    if (!jobs.length) return;
    const now = this.clock.now();
    for (const group of groupByToken(jobs)) {
      const ids = group.map((j) => j.id);
      const done: Record<string, unknown> = {
        status: "done",
        finished_at: now,
        updated_at: now,
        lease_until: null,
        last_error: null,
        last_error_code: null,
        ...this.clearActiveKey(),
      };
      const byId = extra.zenflowIds;
      if (byId && group.some((j) => byId.get(j.id))) {
        // ZenFlow ids differ per job: one statement each (rare: creates only).
        for (const j of group) {
          await retryOnLockConflict(() =>
            this.db(this.table)
              .where({ id: j.id, locked_by: j.lockedBy, status: "running", rerun: false })
              .update({ ...done, zenflow_id: byId.get(j.id) ?? null }),
          );
        }
      } else {
        await retryOnLockConflict(() =>
          this.db(this.table).whereIn("id", ids).andWhere({ locked_by: group[0]!.lockedBy, status: "running", rerun: false }).update(done),
        );
      }
      await this.requeueReruns(group[0]!.lockedBy, ids, now);
    }
  }

  /** Jobs flagged `rerun` while running: back to pending, immediately, with a fresh attempt count. */
  private async requeueReruns(token: string, ids: number[], now: number): Promise<void> {
    await retryOnLockConflict(() =>
      this.db(this.table).whereIn("id", ids).andWhere({ locked_by: token, status: "running", rerun: true }).update({
        status: "pending",
        rerun: false,
        attempts: 0,
        deferrals: 0,
        run_at: now,
        locked_by: null,
        lease_until: null,
        updated_at: now,
      }),
    );
  }

  async retry(job: QueueJob, runAt: number, error: { message: string; code: string }, countAttempt: boolean): Promise<void> {
    const now = this.clock.now();
    await retryOnLockConflict(() =>
      this.db(this.table)
        .where({ id: job.id, locked_by: job.lockedBy, status: "running" })
        .update({
          status: "pending",
          run_at: runAt,
          rerun: false,
          locked_by: null,
          lease_until: null,
          last_error: error.message.slice(0, 4000),
          last_error_code: error.code.slice(0, 64),
          updated_at: now,
          ...(countAttempt
            ? {}
            : { attempts: this.db.raw("CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END"), deferrals: this.db.raw("deferrals + 1") }),
        }),
    );
  }

  /** Parks a job as a dead letter, unless newer data arrived meanwhile (then it runs again). */
  async kill(job: QueueJob, error: { message: string; code: string }, status: "dead" | "ignored" | "unmatched" = "dead"): Promise<void> {
    const now = this.clock.now();
    await retryOnLockConflict(() =>
      this.db(this.table)
        .where({ id: job.id, locked_by: job.lockedBy, status: "running", rerun: false })
        .update({
          status,
          finished_at: now,
          updated_at: now,
          lease_until: null,
          last_error: error.message.slice(0, 4000),
          last_error_code: error.code.slice(0, 64),
          ...this.clearActiveKey(),
        }),
    );
    await this.requeueReruns(job.lockedBy, [job.id], now);
  }

  /** Returns jobs whose lease expired (their worker died) to the queue; gives up on repeat offenders. */
  async sweep(maxAttempts: number): Promise<number> {
    const now = this.clock.now();
    const expired = () => this.db(this.table).where("status", "running").andWhere("lease_until", "<", now);
    const dead = await expired()
      .andWhere("attempts", ">=", maxAttempts)
      .andWhere("rerun", false)
      .update({
        status: "dead",
        finished_at: now,
        updated_at: now,
        last_error: `Stopped after ${maxAttempts} attempts: the ERP process handling it stopped or crashed each time.`,
        last_error_code: "lease_expired",
        ...this.clearActiveKey(),
      });
    const back = await expired().update({
      status: "pending",
      run_at: now,
      locked_by: null,
      lease_until: null,
      rerun: false,
      last_error: "The ERP process handling this stopped before finishing; retrying.",
      last_error_code: "lease_expired",
      updated_at: now,
    });
    return affected(dead) + affected(back);
  }

  /** Makes jobs that were waiting because of these error codes due now (e.g. after the API key was fixed). */
  async release(errorCodes: string[]): Promise<number> {
    const n = await retryOnLockConflict(() =>
      this.db(this.table)
        .where("status", "pending")
        .whereIn("last_error_code", errorCodes)
        .andWhere("run_at", ">", this.clock.now())
        .update({ run_at: this.clock.now(), updated_at: this.clock.now() }),
    );
    return affected(n);
  }

  /** Dead letters (and those an admin discarded) of an entity become history once a newer job succeeds. */
  async supersedeDead(entityKeys: string[]): Promise<void> {
    if (!entityKeys.length || !this.activeKey) return;
    // status first: the claim index's prefix finds the (few) dead rows without an entity index.
    await retryOnLockConflict(() =>
      this.db(this.table)
        .where("status", "dead")
        .whereIn("entity_key", entityKeys)
        .update({ status: "superseded", updated_at: this.clock.now() }),
    );
  }
}

function groupByToken(jobs: QueueJob[]): QueueJob[][] {
  const m = new Map<string, QueueJob[]>();
  for (const j of jobs) m.set(j.lockedBy, [...(m.get(j.lockedBy) ?? []), j]);
  return [...m.values()];
}

export function toJob(r: Record<string, unknown>): QueueJob {
  let payload: unknown = null;
  try {
    payload = JSON.parse(String(r.payload ?? "null"));
  } catch {
    payload = null;
  }
  return {
    id: num(r.id),
    kind: String(r.kind ?? r.event ?? ""),
    entityKey: (r.entity_key as string | null) ?? null,
    erpRef: (r.erp_ref as string | null) ?? null,
    payload,
    attempts: num(r.attempts),
    priority: num(r.priority),
    runAt: num(r.run_at),
    createdAt: num(r.created_at),
    lockedBy: String(r.locked_by ?? ""),
    lastError: (r.last_error as string | null) ?? null,
    lastErrorCode: (r.last_error_code as string | null) ?? null,
    deferrals: num(r.deferrals),
  };
}
