// Cluster-wide singletons: a named lease row that one process holds until it expires.
// A holder that dies simply stops renewing; another process takes over after the TTL.
import type { Knex } from "knex";
import type { Clock } from "./clock";
import { affected, insertIfAbsent } from "./dialect";
import { Table } from "./tables";

export class Leases {
  constructor(
    private readonly db: Knex,
    private readonly clock: Clock,
  ) {}

  async tryAcquire(name: string, holder: string, ttlMs: number): Promise<boolean> {
    const now = this.clock.now();
    await insertIfAbsent(this.db, Table.leases, { name, holder: null, expires_at: 0 }, ["name"]);
    const n = await this.db(Table.leases)
      .where({ name })
      .andWhere((q) => q.where({ holder }).orWhereNull("holder").orWhere("expires_at", "<", now))
      .update({ holder, expires_at: now + ttlMs, acquired_at: now });
    return affected(n) === 1;
  }

  async renew(name: string, holder: string, ttlMs: number): Promise<boolean> {
    const n = await this.db(Table.leases)
      .where({ name, holder })
      .update({ expires_at: this.clock.now() + ttlMs });
    return affected(n) === 1;
  }

  async release(name: string, holder: string): Promise<void> {
    await this.db(Table.leases).where({ name, holder }).update({ holder: null, expires_at: 0 });
  }

  async holderOf(name: string): Promise<{ holder: string | null; expiresAt: number } | null> {
    const r = await this.db(Table.leases).where({ name }).first();
    return r ? { holder: r.holder ?? null, expiresAt: Number(r.expires_at) } : null;
  }
}
