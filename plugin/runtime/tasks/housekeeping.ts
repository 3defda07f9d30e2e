// Deletes what the plugin no longer needs once it is older than the retention (config
// "Keep history for (days)"): finished jobs, processed webhooks (and webhook dead letters),
// history, the order timeline's requests and remembered event ids; and, whatever the retention, the per-order leases of
// the inbox once nobody holds them (one row per order that ever received a webhook). The tables live in the ERP's own database, so the work is done in small
// batches with a pause in between: no statement holds locks for long, and the ERP's own
// requests get the database between batches. Outbox dead letters and waiting work are never touched.
import type { Knex } from "knex";
import type { Clock } from "../../core/clock";
import { affected, retryOnLockConflict } from "../../core/dialect";
import type { PluginLogger } from "../../core/host-api";
import type { ScheduledTask } from "../scheduler";
import { Table } from "../../core/tables";
import { INBOX_LEASE_PREFIX } from "../../jobs/keys";

export const HOUSEKEEPING_TASK = "housekeeping";
/** Daily, at a quiet hour (UTC) away from the full stock sync's default 03:00. */
export const HOUSEKEEPING_CRON = "17 4 * * *";

interface Target {
  name: "outbox" | "inbox" | "history" | "requests" | "seenEvents" | "leases";
  table: string;
  key: string;
  /** Which rows may go; applied to the select and again to the delete (a row replayed meanwhile stays). */
  expired(q: Knex.QueryBuilder, cutoff: number, now: number): Knex.QueryBuilder;
}

/** An inbox lease lasts 30 s; one untouched for an hour is nobody's. */
const LEASE_IDLE_MS = 3_600_000;

function finished(statuses: string[]) {
  return (q: Knex.QueryBuilder, cutoff: number) =>
    // Status first: the claim index (status, …) finds these rows without a full scan.
    q
      .whereIn("status", statuses)
      .andWhere((w) => w.where("finished_at", "<", cutoff).orWhere((n) => n.whereNull("finished_at").andWhere("updated_at", "<", cutoff)));
}

const TARGETS: Target[] = [
  { name: "outbox", table: Table.outbox, key: "id", expired: finished(["done", "superseded", "discarded"]) },
  // Webhook dead letters too: the outbox's are work an admin must see, these are ZenFlow's
  // past news (the status backstop repairs what matters), and each holds up to 1 MB.
  { name: "inbox", table: Table.inbox, key: "id", expired: finished(["done", "ignored", "unmatched", "discarded", "dead"]) },
  { name: "history", table: Table.history, key: "id", expired: (q, cutoff) => q.where("at", "<", cutoff) },
  // The order timeline's requests: as long as the history they explain.
  { name: "requests", table: Table.requests, key: "id", expired: (q, cutoff) => q.where("at", "<", cutoff) },
  { name: "seenEvents", table: Table.seenEvents, key: "event_id", expired: (q, cutoff) => q.where("seen_at", "<", cutoff) },
  {
    name: "leases",
    table: Table.leases,
    key: "name",
    expired: (q, _cutoff, now) => q.where("name", "like", `${INBOX_LEASE_PREFIX}%`).andWhere("expires_at", "<", now - LEASE_IDLE_MS),
  },
];

export interface PurgeOptions {
  db: Knex;
  clock: Clock;
  retentionDays: number;
  /** Rows per DELETE; default 500. */
  batchSize?: number;
  /** Pause between batches; default 100 ms. */
  pauseMs?: number;
  signal?: AbortSignal;
}

export interface PurgeReport {
  cutoff: number;
  outbox: number;
  inbox: number;
  history: number;
  requests: number;
  seenEvents: number;
  leases: number;
}

export async function purgeExpired(opts: PurgeOptions): Promise<PurgeReport> {
  const { db, clock, signal } = opts;
  const batch = opts.batchSize ?? 500;
  const pauseMs = opts.pauseMs ?? 100;
  const cutoff = clock.now() - opts.retentionDays * 86_400_000;
  const now = clock.now();
  const report: PurgeReport = { cutoff, outbox: 0, inbox: 0, history: 0, requests: 0, seenEvents: 0, leases: 0 };
  for (const t of TARGETS) {
    while (!signal?.aborted) {
      // Select the keys, then delete by primary key: a DELETE … LIMIT over a secondary
      // condition would lock every row (and gap) it scans on MariaDB.
      const rows: Record<string, unknown>[] = await t.expired(db(t.table).select(t.key), cutoff, now).limit(batch);
      if (!rows.length) break;
      const keys = rows.map((r) => r[t.key] as string | number);
      const n = affected(await retryOnLockConflict(() => t.expired(db(t.table).whereIn(t.key, keys), cutoff, now).delete()));
      report[t.name] += n;
      if (rows.length < batch || n === 0) break;
      await clock.sleep(pauseMs, signal);
    }
  }
  return report;
}

export interface HousekeepingDeps {
  db: Knex;
  clock: Clock;
  log: PluginLogger;
  retentionDays: number;
}

/** The daily task; the scheduler's lease makes one process in the cluster run it. */
export function housekeepingTask(deps: HousekeepingDeps): ScheduledTask {
  return {
    name: HOUSEKEEPING_TASK,
    every: () => ({ cron: HOUSEKEEPING_CRON }),
    async run(signal) {
      // A failure is logged and recorded by the scheduler; the next day's run tries again.
      const started = deps.clock.now();
      const r = await purgeExpired({ db: deps.db, clock: deps.clock, retentionDays: deps.retentionDays, signal });
      deps.log.info(
        {
          retentionDays: deps.retentionDays,
          olderThan: new Date(r.cutoff).toISOString(),
          outbox: r.outbox,
          inbox: r.inbox,
          history: r.history,
          requests: r.requests,
          seenEvents: r.seenEvents,
          leases: r.leases,
          durationMs: deps.clock.now() - started,
        },
        "housekeeping deleted expired rows",
      );
    },
  };
}
