// ctx.config over Vendure: the admin's settings in our own table, zenflow_vendure_config,
// shared by every Vendure process (server and worker) on the database. What the plugin sees
// is, in increasing precedence: the schema's defaults, the adapter's Vendure defaults, the
// values given to ZenflowPlugin.init({ config }), and the values saved in the admin. Each
// process polls the row's version and fires onChange when another process saved.
import type { Knex } from "knex";
import type { PluginLogger } from "zenflow-erp-plugin/host-api";
import { type ConfigSchema, type JsonObject, isObject } from "./config-schema";
import { type SecretBox, createSecretBox, newPassphrase } from "./secret-box";

export const CONFIG_TABLE = "zenflow_vendure_config";
const SETTINGS_ROW = "settings";
const KEY_ROW = "secret-key";
const SEALED = "$sealed";

export type ConfigListener = (values: JsonObject) => void | Promise<void>;
export type SaveResult = { ok: true } | { ok: false; errors: string[] };

interface Row {
  name: string;
  value: string;
  version: number | string;
  updated_at: number | string;
}

export async function ensureConfigTable(db: Knex): Promise<void> {
  if (await db.schema.hasTable(CONFIG_TABLE)) return;
  try {
    await db.schema.createTable(CONFIG_TABLE, (t) => {
      t.string("name", 64).primary();
      t.text("value").notNullable();
      t.bigInteger("version").notNullable();
      t.bigInteger("updated_at").notNullable();
    });
  } catch (err) {
    // Another process created it between our check and our CREATE.
    if (!(await db.schema.hasTable(CONFIG_TABLE))) throw err;
  }
}

export interface ConfigStoreOptions {
  db: Knex;
  schema: ConfigSchema;
  /** Defaults below the admin's values: the adapter's Vendure defaults, then init({ config }). */
  base: JsonObject;
  /** Explicit key material; else ZENFLOW_SECRET_KEY; else a random key kept in the table. */
  secretKey?: string;
  log: PluginLogger;
  pluginId: string;
}

export class ConfigStore {
  private saved: JsonObject = {};
  private version = -1;
  private box: SecretBox | null = null;
  private readonly listeners = new Set<ConfigListener>();
  private chain: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly o: ConfigStoreOptions) {}

  /** Effective values, secrets decrypted: a fresh copy each call. */
  get(): JsonObject {
    return this.o.schema.withDefaults(structuredClone({ ...this.o.base, ...this.saved }));
  }

  /** Which secrets have a value (saved or from init), for a masked form. */
  secretsSet(): Record<string, boolean> {
    const values = this.get();
    return Object.fromEntries(this.o.schema.secrets.map((s) => [s, values[s] !== undefined && values[s] !== ""]));
  }

  /** The effective values without secrets: what the admin screen may show. */
  publicValues(): JsonObject {
    const values = this.get();
    for (const s of this.o.schema.secrets) delete values[s];
    return values;
  }

  onChange(listener: ConfigListener): () => void {
    const entry: ConfigListener = (v) => listener(v);
    this.listeners.add(entry);
    return () => void this.listeners.delete(entry);
  }

  async load(): Promise<void> {
    this.box ??= await this.openBox();
    const row = (await this.o.db<Row>(CONFIG_TABLE).where({ name: SETTINGS_ROW }).first()) as Row | undefined;
    this.saved = row ? this.unseal(JSON.parse(row.value) as JsonObject) : {};
    this.version = row ? Number(row.version) : 0;
  }

  /**
   * Validates and stores the admin's values. Only values that differ from the defaults are
   * stored, so a default changed in vendure-config.ts still reaches untouched settings. A
   * secret left blank keeps its value (it is never sent to the browser); `null` resets a
   * setting to its default.
   */
  save(input: unknown): Promise<SaveResult> {
    return this.serial(async () => {
      if (!isObject(input)) return { ok: false, errors: ["the settings must be a JSON object"] };
      const next: JsonObject = { ...this.saved };
      for (const [key, value] of Object.entries(input)) {
        if (this.o.schema.secrets.includes(key) && (value === undefined || value === "")) continue;
        if (value === null) delete next[key];
        else next[key] = value;
      }
      const base = this.o.schema.withDefaults(structuredClone(this.o.base));
      for (const key of Object.keys(next)) {
        if (JSON.stringify(next[key]) === JSON.stringify(base[key])) delete next[key];
      }
      const errors = this.o.schema.validate(this.o.schema.withDefaults({ ...this.o.base, ...next }));
      if (errors.length) return { ok: false, errors };
      await this.write(next);
      this.o.log.info({ plugin: this.o.pluginId, version: this.version }, "ZenFlow settings saved");
      await this.fire();
      return { ok: true };
    });
  }

  startPolling(intervalMs: number): void {
    const tick = async () => {
      try {
        await this.pollOnce();
      } catch (err) {
        this.o.log.warn({ err }, "ZenFlow settings poll failed");
      }
      if (this.timer) this.timer = setTimeout(tick, intervalMs).unref();
    };
    this.timer = setTimeout(tick, intervalMs).unref();
  }

  stopPolling(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Reloads and notifies when another process saved a newer version. */
  pollOnce(): Promise<boolean> {
    return this.serial(async () => {
      const row = (await this.o.db<Row>(CONFIG_TABLE).where({ name: SETTINGS_ROW }).first("version")) as Pick<Row, "version"> | undefined;
      if ((row ? Number(row.version) : 0) === this.version) return false;
      await this.load();
      await this.fire();
      return true;
    });
  }

  private serial<T>(step: () => Promise<T>): Promise<T> {
    const run = this.chain.then(step);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async write(values: JsonObject): Promise<void> {
    const value = JSON.stringify(this.seal(values));
    const now = Date.now();
    const version = await this.o.db.transaction(async (trx) => {
      const row = (await trx<Row>(CONFIG_TABLE).where({ name: SETTINGS_ROW }).first("version")) as Pick<Row, "version"> | undefined;
      const next = row ? Number(row.version) + 1 : 1;
      if (row) await trx(CONFIG_TABLE).where({ name: SETTINGS_ROW }).update({ value, version: next, updated_at: now });
      else await trx(CONFIG_TABLE).insert({ name: SETTINGS_ROW, value, version: next, updated_at: now });
      return next;
    });
    this.saved = values;
    this.version = version;
  }

  private async fire(): Promise<void> {
    const values = this.get();
    for (const listener of [...this.listeners]) {
      try {
        await listener(structuredClone(values));
      } catch (err) {
        this.o.log.error({ err }, "a ZenFlow settings listener failed");
      }
    }
  }

  private async openBox(): Promise<SecretBox> {
    const explicit = this.o.secretKey ?? process.env.ZENFLOW_SECRET_KEY;
    if (explicit) return createSecretBox(explicit);
    // First process to get here stores a random key; the others read it (insert-or-ignore).
    await this.o.db(CONFIG_TABLE)
      .insert({ name: KEY_ROW, value: newPassphrase(), version: 1, updated_at: Date.now() })
      .onConflict("name")
      .ignore();
    const row = (await this.o.db<Row>(CONFIG_TABLE).where({ name: KEY_ROW }).first()) as Row;
    return createSecretBox(row.value);
  }

  private aad(key: string): string {
    return `${this.o.pluginId}:${key}`;
  }

  private seal(values: JsonObject): JsonObject {
    const out = { ...values };
    for (const key of this.o.schema.secrets) {
      if (out[key] !== undefined) out[key] = { [SEALED]: this.box!.seal(out[key], this.aad(key)) };
    }
    return out;
  }

  private unseal(values: JsonObject): JsonObject {
    const out = { ...values };
    for (const key of this.o.schema.secrets) {
      const v = out[key];
      if (!isObject(v) || typeof v[SEALED] !== "string") continue;
      try {
        out[key] = this.box!.open(v[SEALED], this.aad(key));
      } catch {
        // A different key (ZENFLOW_SECRET_KEY changed, or differs between processes) must not
        // stop Vendure: the secret counts as unset and the plugin reports itself unconfigured.
        this.o.log.error({ setting: key }, "cannot decrypt a saved ZenFlow secret: check ZENFLOW_SECRET_KEY");
        delete out[key];
      }
    }
    return out;
  }
}
