// The plugin lives in someone else's ERP: its database is the ERP's, and so is the ERP's
// connection pool. Everything the plugin does in the background (worker, routing, budget,
// leases, inbox, reconciliation, housekeeping, admin pages) and every ctx.erp call it makes
// (the host serves those from the same pool) holds at most `share` connections at once:
// by default a quarter of the host's pool, at least one. The rest stays the ERP's, so a
// ZenFlow outage that makes the plugin retry hard cannot queue the ERP's own requests
// behind it. Only the event handlers' single-row insert runs on the host's knex directly:
// it is the ERP's own request, and waiting behind the plugin's background work would slow
// exactly what the share protects.
import type { Knex } from "knex";
import { isMysql } from "./dialect";

/** A counting semaphore with a deadline on waiting: urgent waiters first, then first come first served. */
export class Permits {
  private used = 0;
  private readonly queue: Array<() => void> = [];
  private readonly urgentQueue: Array<() => void> = [];

  constructor(readonly size: number) {}

  get inUse(): number {
    return this.used;
  }

  get waiting(): number {
    return this.queue.length + this.urgentQueue.length;
  }

  /** Resolves once a permit is held; rejects after `timeoutMs` without one. */
  acquire(timeoutMs: number, urgent = false): Promise<void> {
    if (this.used < this.size) {
      this.used++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const grant = () => {
        clearTimeout(timer);
        this.used++;
        resolve();
      };
      const line = urgent ? this.urgentQueue : this.queue;
      const timer = setTimeout(() => {
        const i = line.indexOf(grant);
        if (i >= 0) line.splice(i, 1);
        reject(new DbShareTimeoutError(`waited ${timeoutMs} ms for one of the plugin's ${this.size} database connection(s)`));
      }, timeoutMs);
      timer.unref();
      line.push(grant);
    });
  }

  release(): void {
    this.used = Math.max(0, this.used - 1);
    (this.urgentQueue.shift() ?? this.queue.shift())?.();
  }

  /** Runs `fn` holding one permit. */
  async with<T>(timeoutMs: number, fn: () => Promise<T>): Promise<T> {
    await this.acquire(timeoutMs);
    try {
      return await fn();
    } finally {
      this.release();
    }
  }
}

/** The plugin's share of the pool was busy for too long: transient, the caller retries later. */
export class DbShareTimeoutError extends Error {
  readonly code = "DB_SHARE_TIMEOUT";
}

/** The host pool's maximum size when the knex instance tells (tarn's `max`), else null. */
export function poolSizeOf(db: Knex): number | null {
  const client = db.client as { pool?: { max?: unknown }; config?: { pool?: { max?: unknown } } };
  const max = client.pool?.max ?? client.config?.pool?.max;
  return typeof max === "number" && Number.isFinite(max) && max > 0 ? max : null;
}

/** A quarter of the host's pool, at least one; two when the pool does not say its size. */
export function defaultShare(poolMax: number | null): number {
  return poolMax === null ? 2 : Math.max(1, Math.floor(poolMax / 4));
}

export interface DbShareOptions {
  permits: Permits;
  /** How long a statement may wait for one of the plugin's connections. */
  acquireTimeoutMs: number;
  /**
   * MySQL/MariaDB: each statement outside a transaction is cancelled (KILL QUERY) after this
   * long, so no job waits forever on a lock. SQLite statements are synchronous and bounded by
   * the host's busy_timeout instead.
   */
  statementTimeoutMs: number;
  /**
   * Statements of this knex wait ahead of the plugin's background ones for a connection: what
   * stands between a ZenFlow request and the wire (the shared budget), what keeps a lease
   * alive (heartbeats, renewals) and what a webhook delivery waits for. Same permits, same
   * share; only the order of waiting changes. (A flag on the instance rather than on the
   * async context: AsyncLocalStorage would slow every promise of the host's process.)
   */
  urgent?: boolean;
}

interface GatedClient {
  acquireConnection(): Promise<unknown>;
  releaseConnection(conn: unknown): Promise<void>;
  queryBuilder(): Knex.QueryBuilder;
  raw(...args: unknown[]): Knex.Raw;
}

/**
 * A knex instance on the host's own pool whose connections count against `permits`:
 * `withUserParams` gives a copy of the client that shares the pool, and only that copy's
 * acquire/release are wrapped, so the host's own queries are never gated.
 */
export function shareOfPool(host: Knex, opts: DbShareOptions): Knex {
  const db = host.withUserParams({ zenflowShare: true });
  const client = db.client as unknown as GatedClient;
  const acquire = client.acquireConnection.bind(client);
  const release = client.releaseConnection.bind(client);
  client.acquireConnection = async () => {
    await opts.permits.acquire(opts.acquireTimeoutMs, opts.urgent === true);
    try {
      return await acquire();
    } catch (err) {
      opts.permits.release();
      throw err;
    }
  };
  client.releaseConnection = async (conn: unknown) => {
    try {
      await release(conn);
    } finally {
      opts.permits.release();
    }
  };
  if (isMysql(host) && opts.statementTimeoutMs > 0) {
    const builder = client.queryBuilder.bind(client);
    const raw = client.raw.bind(client);
    const ms = opts.statementTimeoutMs;
    client.queryBuilder = () => builder().timeout(ms, { cancel: true });
    client.raw = (...args: unknown[]) => raw(...args).timeout(ms, { cancel: true });
  }
  return db;
}
