// Stores webhook deliveries in zenflow_inbox with group commit: a bounded number of writes is in
// flight at a time, and the deliveries that arrive while they run form the next one, a single multi-row
// INSERT … ON CONFLICT DO NOTHING (one commit, one fsync). Under a burst the batches grow by
// themselves, so 200 concurrent deliveries cost a handful of commits instead of 200; alone, a
// delivery is written at once, and while deliveries keep arriving none waits more than a few
// milliseconds for its batch to start. Each delivery is answered only after the commit that holds
// its row, and learns whether its row is new: rows carry the batch's token, read back by id.
import { randomUUID } from "node:crypto";
import type { Knex } from "knex";
import { isLockConflict, rawAffected } from "../core/dialect";
import { Table } from "../core/tables";

/** Well under MariaDB's default max_allowed_packet (16 MB), whatever the payloads weigh. */
const MAX_BATCH_BYTES = 4 * 1024 * 1024;

interface Waiting {
  row: Record<string, unknown>;
  resolve(stored: boolean): void;
  reject(err: unknown): void;
}

export interface InboxIngestOptions {
  /** Rows per statement at most. */
  maxBatch?: number;
  /**
   * Writes in flight at once. SQLite: 1 (one connection, and its writes block the event loop).
   * MariaDB: 2, so that the deliveries arriving during one commit need not wait for it to end
   * before their own starts.
   */
  parallel?: number;
  /**
   * The longest a first delivery waits for others to join its batch while deliveries keep
   * arriving (a quarter of maxBatch joining starts the write too).
   */
  collectMs?: number;
}

export class InboxIngest {
  private waiting: Waiting[] = [];
  private scheduled = false;
  private collectingSince = 0;
  private inFlight = 0;
  private readonly maxBatch: number;
  private readonly parallel: number;
  private readonly collectMs: number;

  constructor(
    private readonly db: Knex,
    opts: InboxIngestOptions = {},
  ) {
    this.maxBatch = opts.maxBatch ?? 200;
    this.parallel = Math.max(1, opts.parallel ?? 1);
    this.collectMs = opts.collectMs ?? 5;
  }

  /** Resolves true when the row was stored, false when its event id was already there. */
  store(row: Record<string, unknown>): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.waiting.push({ row, resolve, reject });
      if (this.inFlight >= this.parallel) return; // joins the batch that starts when a write ends
      if (!this.scheduled) {
        this.scheduled = true;
        this.collectingSince = performance.now();
        // Whatever arrives during this turn of the event loop joins the batch.
        setImmediate(() => this.flush());
      } else if (this.waiting.length >= this.maxBatch / 4 || performance.now() - this.collectingSince >= this.collectMs) {
        // Under a stream of arrivals the loop stays in its I/O phase and setImmediate waits for
        // it (seen: 30 ms and more while 130 deliveries came in): start the write now instead.
        queueMicrotask(() => this.flush());
      }
    });
  }

  /** Starts writes for what is waiting while there is room; a write that ends starts the next. */
  private flush(): void {
    this.scheduled = false;
    while (this.waiting.length && this.inFlight < this.parallel) {
      const batch = this.waiting.splice(0, this.batchLength());
      this.inFlight++;
      // On the urgent knex (router.ts): a delivery is waiting on the other end.
      void this.write(batch).finally(() => {
        this.inFlight--;
        this.flush();
      });
    }
  }

  /** As many waiting rows as fit one statement: at most maxBatch rows and about 4 MB of payload. */
  private batchLength(): number {
    let bytes = 0;
    let n = 0;
    for (const w of this.waiting) {
      bytes += String(w.row.payload ?? "").length;
      if (n >= this.maxBatch || (n > 0 && bytes > MAX_BATCH_BYTES)) break;
      n++;
    }
    return n;
  }

  private async write(batch: Waiting[]): Promise<void> {
    const token = randomUUID();
    // The same event twice in one batch: only the first may insert.
    const firstIndex = new Map<string, number>();
    batch.forEach((w, i) => {
      const id = String(w.row.event_id);
      if (!firstIndex.has(id)) firstIndex.set(id, i);
    });
    try {
      // In key order, so that two batches in flight lock the same keys (repeated deliveries) in
      // the same order and cannot deadlock each other.
      const rows = [...firstIndex.values()]
        .map((i): Record<string, unknown> => ({ ...batch[i]!.row, ingest_batch: token }))
        .sort((a, b) => (String(a.event_id) < String(b.event_id) ? -1 : 1));
      // Run raw to learn how many rows went in: when all did (a burst of new deliveries, the
      // usual case) every row is ours and the read-back statement is not needed.
      const insert = this.db(Table.inbox).insert(rows).onConflict("event_id").ignore().toSQL();
      const run = () => this.db.raw(insert.sql, insert.bindings);
      const inserted = rawAffected(await run().catch((err: unknown) => (isLockConflict(err) ? run() : Promise.reject(err))));
      const ids = [...firstIndex.keys()];
      const mine = new Set<string>(inserted === ids.length ? ids : []);
      for (let i = 0; inserted !== ids.length && i < ids.length; i += 500) {
        const found = await this.db(Table.inbox)
          .whereIn("event_id", ids.slice(i, i + 500))
          .select("event_id", "ingest_batch");
        for (const f of found) if (f.ingest_batch === token) mine.add(String(f.event_id));
      }
      batch.forEach((w, i) => {
        const id = String(w.row.event_id);
        w.resolve(firstIndex.get(id) === i && mine.has(id));
      });
    } catch (err) {
      for (const w of batch) w.reject(err);
    }
  }
}
