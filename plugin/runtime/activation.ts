// What every part of the running plugin shares regardless of config: the database-backed
// stores and the adapters to the host. Built once per activation in the composition root.
import type { Knex } from "knex";
import type { Permits } from "../core/db-share";
import type { Clock } from "../core/clock";
import type { ErpPort } from "../core/erp-port";
import type { History } from "../core/history";
import type { PluginLogger } from "../core/host-api";
import type { Binder } from "../id-map/binder";
import type { Leases } from "../core/leases";
import type { JobQueue } from "../outbox/queue";
import type { EventRecorder } from "../outbox/event-recorder";
import type { EventLog } from "../outbox/event-log";
import type { KvStore } from "../core/kv-store";
import type { Metrics } from "../admin/metrics";

export interface Activation {
  /** The plugin's share of the host's connection pool (db-share.ts); `db` counts against it. */
  permits: Permits;
  /** The same share, ahead in the queue: the shared budget, leases, heartbeats and webhook ingest. */
  urgentDb: Knex;
  pluginId: string;
  workerId: string;
  /** Absolute URL where ctx.http.public is mounted (webhook subscription). */
  publicUrl: string;
  db: Knex;
  clock: Clock;
  log: PluginLogger;
  erp: ErpPort;
  outbox: JobQueue;
  inbox: JobQueue;
  binder: Binder;
  history: History;
  state: KvStore;
  leases: Leases;
  eventLog: EventLog;
  recorder: EventRecorder;
  metrics: Metrics;
  lastSuccessAt: number | null;
}
