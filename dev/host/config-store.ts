// Plugin configuration shared by every ERP process on one database (table erp_plugin_config).
// Each process keeps the decrypted values in memory (ctx.config.get() is synchronous), polls
// the row's version, and fires onChange listeners when another process saved.
import type { Knex } from "knex";
import type { PluginLogger } from "../../plugin/core/host-api";
import {
  compileConfigSchema,
  deletePath,
  getPath,
  isObject,
  secretPaths,
  setPath,
  withDefaults,
  type JsonObject,
  type SchemaNode,
} from "./config-schema";
import { writeTx } from "./erp/transaction";
import type { SecretCipher } from "./secrets";

export type ConfigListener = (values: JsonObject) => void | Promise<void>;
export type SaveResult = { ok: true } | { ok: false; errors: string[] };

interface ConfigRow {
  plugin_id: string;
  values_json: string;
  version: number | string;
  updated_at: string;
}

const ENCRYPTED = "$encrypted";

export interface ConfigStoreOptions {
  /** Contract section 4 read literally: get() is {} until the first save (no defaults). */
  emptyBeforeFirstSave?: boolean;
}

export class ConfigStore {
  private values: JsonObject = {};
  private saved = false;
  private version = 0;
  private readonly listeners = new Set<ConfigListener>();
  private readonly validate: (v: unknown) => string[];
  private readonly secrets: string[][];
  private timer: NodeJS.Timeout | null = null;
  private polling = false;
  private fireChain: Promise<void> = Promise.resolve();
  private saveChain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly db: Knex,
    private readonly pluginId: string,
    private readonly schema: SchemaNode,
    private readonly cipher: SecretCipher,
    private readonly log: PluginLogger,
    private readonly opts: ConfigStoreOptions = {},
  ) {
    this.validate = compileConfigSchema(schema);
    this.secrets = secretPaths(schema);
  }

  /** What the plugin sees: saved values with secrets decrypted and defaults filled in. A fresh copy each time. */
  get(): JsonObject {
    if (!this.saved && this.opts.emptyBeforeFirstSave) return {};
    return withDefaults(this.schema, structuredClone(this.values));
  }

  /** Saved values without defaults (secrets included): for the host's own screens, never for output. */
  savedValues(): JsonObject {
    return structuredClone(this.values);
  }

  hasSavedSecret(path: string[]): boolean {
    const v = getPath(this.values, path);
    return v !== undefined && v !== "";
  }

  isSaved(): boolean {
    return this.saved;
  }

  currentVersion(): number {
    return this.version;
  }

  onChange(listener: ConfigListener): () => void {
    // Wrapped so that subscribing the same function twice gives two independent subscriptions.
    const entry: ConfigListener = (v) => listener(v);
    this.listeners.add(entry);
    return () => {
      this.listeners.delete(entry);
    };
  }

  clearListeners(): void {
    this.listeners.clear();
  }

  async load(): Promise<void> {
    const row = (await this.db<ConfigRow>("erp_plugin_config").where({ plugin_id: this.pluginId }).first()) as ConfigRow | undefined;
    if (!row) {
      this.values = {};
      this.saved = false;
      this.version = 0;
      return;
    }
    this.values = this.decryptSecrets(JSON.parse(row.values_json) as JsonObject);
    this.saved = true;
    this.version = Number(row.version);
  }

  /**
   * Validates and stores. A secret left out (or blank) keeps its saved value, because the
   * saved value is never sent to the browser and so cannot come back with the form.
   */
  save(input: unknown): Promise<SaveResult> {
    const run = this.saveChain.then(() => this.saveNow(input));
    this.saveChain = run.catch(() => undefined);
    return run;
  }

  private async saveNow(input: unknown): Promise<SaveResult> {
    if (!isObject(input)) return { ok: false, errors: ["config must be a JSON object"] };
    let merged: JsonObject = structuredClone(input);
    for (const path of this.secrets) {
      const given = getPath(merged, path);
      if (given !== undefined && given !== "") continue;
      const kept = getPath(this.values, path);
      merged = kept === undefined ? deletePath(merged, path) : setPath(merged, path, kept);
    }
    // Validate what the plugin will get (with defaults); store only what the admin set, so a
    // default changed by a plugin upgrade applies to untouched properties.
    const errors = this.validate(withDefaults(this.schema, merged));
    if (errors.length > 0) return { ok: false, errors };

    const stored = JSON.stringify(this.encryptSecrets(merged));
    const now = new Date().toISOString();
    const { value: version } = await writeTx(this.db, async (trx) => {
      const row = (await trx("erp_plugin_config").where({ plugin_id: this.pluginId }).first("version")) as
        { version: number | string } | undefined;
      const next = row ? Number(row.version) + 1 : 1;
      if (row)
        await trx("erp_plugin_config").where({ plugin_id: this.pluginId }).update({ values_json: stored, version: next, updated_at: now });
      else await trx("erp_plugin_config").insert({ plugin_id: this.pluginId, values_json: stored, version: next, updated_at: now });
      return next;
    });
    this.values = merged;
    this.saved = true;
    this.version = version;
    this.log.info({ plugin: this.pluginId, version }, "plugin config saved");
    // The saving process notifies its own listeners at once; others notice on their next poll.
    await this.fire();
    return { ok: true };
  }

  /** Removes the stored config (uninstall with dropData). */
  async remove(): Promise<void> {
    await this.db("erp_plugin_config").where({ plugin_id: this.pluginId }).delete();
    this.values = {};
    this.saved = false;
    this.version = 0;
  }

  startPolling(intervalMs: number): void {
    if (this.polling) return;
    this.polling = true;
    const tick = async () => {
      if (!this.polling) return;
      try {
        await this.pollOnce();
      } catch (err) {
        this.log.warn({ err, plugin: this.pluginId }, "config poll failed");
      }
      // setTimeout after each poll (not setInterval): a slow database never stacks polls.
      if (this.polling) {
        this.timer = setTimeout(tick, intervalMs);
        this.timer.unref();
      }
    };
    this.timer = setTimeout(tick, intervalMs);
    this.timer.unref();
  }

  async stopPolling(): Promise<void> {
    this.polling = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.fireChain;
  }

  /** Reloads and notifies if another process saved a newer version. */
  pollOnce(): Promise<boolean> {
    // Queued behind saves (and saves behind it), so a reload never overwrites a newer local save.
    const run = this.saveChain.then(async () => {
      const row = (await this.db("erp_plugin_config").where({ plugin_id: this.pluginId }).first("version")) as
        { version: number | string } | undefined;
      if ((row ? Number(row.version) : 0) === this.version) return false;
      await this.load();
      await this.fire();
      return true;
    });
    this.saveChain = run.catch(() => undefined);
    return run;
  }

  private fire(): Promise<void> {
    // Serialised: listeners see changes one at a time and in order.
    const run = this.fireChain.then(async () => {
      const values = this.get();
      for (const listener of [...this.listeners]) {
        try {
          await listener(structuredClone(values));
        } catch (err) {
          this.log.error({ err, plugin: this.pluginId }, "config onChange listener failed");
        }
      }
    });
    this.fireChain = run;
    return run;
  }

  private aad(path: string[]): string {
    return `${this.pluginId}:${path.join(".")}`;
  }

  private encryptSecrets(values: JsonObject): JsonObject {
    let out = values;
    for (const path of this.secrets) {
      const v = getPath(out, path);
      if (v !== undefined) out = setPath(out, path, { [ENCRYPTED]: this.cipher.encrypt(v, this.aad(path)) });
    }
    return out;
  }

  private decryptSecrets(values: JsonObject): JsonObject {
    let out = values;
    for (const path of this.secrets) {
      const v = getPath(out, path);
      if (!isObject(v) || typeof v[ENCRYPTED] !== "string") continue;
      try {
        out = setPath(out, path, this.cipher.decrypt(v[ENCRYPTED] as string, this.aad(path)));
      } catch (err) {
        // A wrong key (processes configured differently) must not crash the ERP: the secret is
        // treated as not set, and the plugin reports itself unconfigured.
        this.log.error(
          { plugin: this.pluginId, property: path.join("."), error: (err as Error).message },
          "cannot decrypt a saved secret: check ERP_SECRET_KEY",
        );
        out = deletePath(out, path);
      }
    }
    return out;
  }
}
