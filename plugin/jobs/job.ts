// What listeners, webhooks and reconciliation hand to the queue: a job names an entity and
// what to do about it; the worker reads the entity's current state when it runs.
import type { EventMeta } from "../core/host-api";

export interface JobInput {
  kind: string;
  entityKey: string;
  erpRef?: string | null;
  payload: unknown;
  priority: number;
  runAt?: number;
}

/** Records a job durably, off the ERP's request path's critical part (see outbox/event-recorder). */
export interface JobRecorder {
  record(meta: EventMeta | undefined, job: JobInput): Promise<void>;
}

/** Combines the payload of a waiting job with a newer one for the same entity. */
export type PayloadMerger = (older: unknown, newer: unknown) => unknown;
