// Which requests to ZenFlow carried which order, for the dashboard's order timeline ("why is
// SO-123 not there yet?"). Written by the transport after each answer, off the ERP's request
// path; a failed write is the caller's to log, never the request's failure.
import type { Knex } from "knex";
import { Table } from "./tables";
import { clip } from "./text";

/** An entity a request is about (an order it creates, updates, cancels or checks). */
export interface RequestSubject {
  entityKey: string;
  erpRef: string | null;
}

export interface RequestRecord {
  subjects: readonly RequestSubject[];
  endpoint: string;
  path: string;
  /** HTTP status, or null when no answer came. */
  status: number | null;
  /** "ok" or the error's code. */
  outcome: string;
  message: string | null;
  durationMs: number;
  /** When the request left (epoch ms). */
  at: number;
  /** The instant whose budget windows counted the request's token. */
  tokenAt: number;
}

const MINUTE = 60_000;
const HOUR = 3_600_000;

export class RequestLog {
  constructor(private readonly db: Knex) {}

  async record(r: RequestRecord): Promise<void> {
    if (!r.subjects.length) return;
    const rows = r.subjects.map((s) => ({
      entity_key: clip(s.entityKey, 191),
      erp_ref: s.erpRef == null ? null : clip(s.erpRef, 191),
      endpoint: clip(r.endpoint, 64),
      path: clip(r.path, 512),
      status: r.status,
      outcome: clip(r.outcome, 64),
      message: r.message == null ? null : clip(r.message, 1000),
      duration_ms: Math.max(0, Math.min(2_147_483_647, Math.round(r.durationMs))),
      batch_size: r.subjects.length,
      minute_start: Math.floor(r.tokenAt / MINUTE) * MINUTE,
      hour_start: Math.floor(r.tokenAt / HOUR) * HOUR,
      at: r.at,
    }));
    for (let i = 0; i < rows.length; i += 200) await this.db(Table.requests).insert(rows.slice(i, i + 200));
  }
}
