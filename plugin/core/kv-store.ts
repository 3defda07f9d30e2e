// Small JSON values shared by all processes: cursors, last runs, progress, registrations.
import type { Knex } from "knex";
import type { Clock } from "./clock";

export class StateStore {
  constructor(
    private readonly db: Knex,
    private readonly clock: Clock,
  ) {}

  async get<T>(key: string): Promise<T | null> {
    const row = await this.db("zenflow_state").where({ key }).first();
    if (!row) return null;
    try {
      return JSON.parse(String(row.value)) as T;
    } catch {
      return null;
    }
  }

  async set(key: string, value: unknown): Promise<void> {
    const now = this.clock.now();
    const v = JSON.stringify(value);
    await this.db("zenflow_state").insert({ key, value: v, updated_at: now }).onConflict("key").merge({ value: v, updated_at: now });
  }

  async delete(key: string): Promise<void> {
    await this.db("zenflow_state").where({ key }).delete();
  }
}
