// Stores webhook deliveries in zenflow_inbox with group commit: one write is in flight at a
// time, and the deliveries that arrive while it runs form the next one, a single multi-row
// INSERT … ON CONFLICT DO NOTHING (one commit, one fsync). Under a burst the batches grow by
// themselves, so 200 concurrent deliveries cost a handful of commits instead of 200; alone, a
// delivery is written at once. Each delivery is answered only after the commit that holds
// its row, and learns whether its row is new: rows carry the batch's token, read back by id.
import { randomUUID } from "node:crypto";
import type { Knex } from "knex";
import { Table } from "../core/tables";

/** Well under MariaDB's default max_allowed_packet (16 MB), whatever the payloads weigh. */
const MAX_BATCH_BYTES = 4 * 1024 * 1024;

interface Waiting {
  row: Record<string, unknown>;
  resolve(stored: boolean): void;
  reject(err: unknown): void;
}

export class InboxIngest {
  private waiting: Waiting[] = [];
  private scheduled = false;
  private writing = false;

  constructor(
    private readonly db: Knex,
    private readonly maxBatch = 200,
  ) {}

  /** Resolves true when the row was stored, false when its event id was already there. */
  store(row: Record<string, unknown>): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.waiting.push({ row, resolve, reject });
      if (this.writing || this.scheduled) return; // joins the next batch
      this.scheduled = true;
      // Whatever arrives during this turn of the event loop joins the batch.
      setImmediate(() => void this.flush());
    });
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    this.writing = true;
    try {
      // On the urgent knex (router.ts): a delivery is waiting on the other end.
      while (this.waiting.length) await this.write(this.waiting.splice(0, this.batchLength()));
    } finally {
      this.writing = false;
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
      const rows = [...firstIndex.values()].map((i) => ({ ...batch[i]!.row, ingest_batch: token }));
      await this.db(Table.inbox).insert(rows).onConflict("event_id").ignore();
      const mine = new Set<string>();
      const ids = [...firstIndex.keys()];
      for (let i = 0; i < ids.length; i += 500) {
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
