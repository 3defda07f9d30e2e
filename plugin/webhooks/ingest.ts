// Stores webhook deliveries in zenflow_inbox. Deliveries that arrive together share one
// multi-row INSERT … ON CONFLICT DO NOTHING (one commit, one fsync) instead of one each:
// a burst after an outage is written at the database's batch speed. Every delivery still
// learns whether its own row is new: rows carry the batch's token, read back by event id.
import { randomUUID } from "node:crypto";
import type { Knex } from "knex";
import { Table } from "../core/tables";

interface Waiting {
  row: Record<string, unknown>;
  resolve(stored: boolean): void;
  reject(err: unknown): void;
}

export class InboxIngest {
  private waiting: Waiting[] = [];
  private scheduled = false;

  constructor(
    private readonly db: Knex,
    private readonly maxBatch = 200,
  ) {}

  /** Resolves true when the row was stored, false when its event id was already there. */
  store(row: Record<string, unknown>): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.waiting.push({ row, resolve, reject });
      if (this.waiting.length >= this.maxBatch) void this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        // Whatever arrived during this turn of the event loop joins the batch.
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    const batch = this.waiting.splice(0, this.maxBatch);
    if (this.waiting.length && !this.scheduled) {
      this.scheduled = true;
      setImmediate(() => void this.flush());
    }
    if (!batch.length) return;
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
