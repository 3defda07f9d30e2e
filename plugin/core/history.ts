// An append-only log of what happened to each entity, for the dashboard's lookup
// ("what happened to SO-123?") and its list of recent failures.
import type { Knex } from "knex";
import type { Clock } from "./clock";
import { Table } from "./tables";
import { clip } from "./text";

export type Outcome =
  | "sent"
  | "noop"
  | "retry"
  | "dead"
  | "refused"
  | "applied"
  | "ignored"
  | "unmatched"
  | "received"
  | "discarded"
  /** A note the plugin wrote to the ERP record (the message is its text). */
  | "note";

export interface HistoryEntry {
  entityKey: string;
  erpRef?: string | null;
  kind: string;
  outcome: Outcome;
  message?: string | null;
  zenflowId?: string | null;
  jobId?: number | null;
}

export class History {
  constructor(
    private readonly db: Knex,
    private readonly clock: Clock,
  ) {}

  async record(entries: HistoryEntry[]): Promise<void> {
    if (!entries.length) return;
    const at = this.clock.now();
    const rows = entries.map((e) => ({
      entity_key: clip(e.entityKey, 191),
      erp_ref: e.erpRef == null ? null : clip(e.erpRef, 191),
      kind: e.kind,
      outcome: e.outcome,
      message: e.message == null ? null : clip(e.message, 4000),
      zenflow_id: e.zenflowId ?? null,
      job_id: e.jobId ?? null,
      at,
    }));
    for (let i = 0; i < rows.length; i += 200) await this.db(Table.history).insert(rows.slice(i, i + 200));
  }
}
