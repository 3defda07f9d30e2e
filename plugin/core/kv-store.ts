// Small JSON values shared by all processes: cursors, last runs, progress, registrations.
// Every key is declared once, with the type of its value, by the module that owns it
// (`kvKey<T>("name")`): no untyped string keys, and a reader gets the writer's type.
import type { Knex } from "knex";
import type { Clock } from "./clock";
import { insertIfAbsent } from "./dialect";
import { Table } from "./tables";

/** A key of zenflow_state and the type of the JSON value stored under it. */
export interface KvKey<T> {
  readonly name: string;
  /** Type-level only: ties the key to its value type. */
  readonly valueType?: (v: T) => T;
}

export function kvKey<T>(name: string): KvKey<T> {
  return { name };
}

export class KvStore {
  constructor(
    private readonly db: Knex,
    private readonly clock: Clock,
  ) {}

  async get<T>(key: KvKey<T>): Promise<T | null> {
    const row = await this.db(Table.state).where({ key: key.name }).first();
    if (!row) return null;
    try {
      return JSON.parse(String(row.value)) as T;
    } catch {
      return null;
    }
  }

  /** Several keys in one query, in the order given (null where absent). */
  async getMany<T>(keys: KvKey<T>[]): Promise<(T | null)[]> {
    if (!keys.length) return [];
    const rows: { key: string; value: unknown }[] = await this.db(Table.state)
      .whereIn(
        "key",
        keys.map((k) => k.name),
      )
      .select("key", "value");
    const byKey = new Map(rows.map((r) => [r.key, r.value]));
    return keys.map((k) => {
      const v = byKey.get(k.name);
      if (v === undefined) return null;
      try {
        return JSON.parse(String(v)) as T;
      } catch {
        return null;
      }
    });
  }

  async set<T>(key: KvKey<T>, value: T): Promise<void> {
    const now = this.clock.now();
    const v = JSON.stringify(value);
    await this.db(Table.state).insert({ key: key.name, value: v, updated_at: now }).onConflict("key").merge({ value: v, updated_at: now });
  }

  /**
   * Stores `value` unless the key already has one, and returns what is stored afterwards:
   * when several processes race, they all get the one value that landed first.
   */
  async getOrInit<T>(key: KvKey<T>, value: () => T): Promise<T> {
    const existing = await this.get(key);
    if (existing !== null) return existing;
    await insertIfAbsent(this.db, Table.state, { key: key.name, value: JSON.stringify(value()), updated_at: this.clock.now() }, ["key"]);
    return (await this.get(key))!;
  }

  async delete<T>(key: KvKey<T>): Promise<void> {
    await this.db(Table.state).where({ key: key.name }).delete();
  }
}
