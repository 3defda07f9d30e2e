// Reading and checking a plugin package (contract section 1). A plugin whose manifest is
// invalid, or whose erpApi range this host does not satisfy, is refused before any of its
// code runs.
import { readFile } from "node:fs/promises";
import { isAbsolute, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import semver from "semver";
import type { ErpEventName, ErpPlugin, PluginManifest } from "../../plugin/core/host-api";
import { compileConfigSchema, isObject } from "./config-schema";

/** The version of the ERP Plugin API this host implements. */
export const HOST_API_VERSION = "1.0.0";

export const KNOWN_EVENTS: readonly ErpEventName[] = [
  "order.created",
  "order.updated",
  "order.cancelled",
  "product.created",
  "product.updated",
  "product.deleted",
  "stock.changed",
];

export const KNOWN_PERMISSIONS = ["db", "http.public", "http.admin", "erp.orders.write", "erp.stock.write", "network"] as const;

export const MANIFEST_ID_PATTERN = /^[a-z][a-z0-9-]{1,39}$/;
const TABLE_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

export class ManifestError extends Error {
  constructor(
    readonly problems: string[],
    where = "manifest.json",
  ) {
    super(`plugin refused: ${where}: ${problems.join("; ")}`);
    this.name = "ManifestError";
  }
}

function insidePackage(p: string): boolean {
  return !isAbsolute(p) && !relative(".", p).startsWith("..");
}

/**
 * Checks every field of the contract's manifest table. All fields are required (the
 * transcribed PluginManifest type has no optional field): a reference host that accepts
 * less would let a plugin pass here and fail on a stricter host.
 */
export function validateManifest(raw: unknown, hostApiVersion = HOST_API_VERSION): PluginManifest {
  const problems: string[] = [];
  if (!isObject(raw)) throw new ManifestError(["must be a JSON object"]);
  const m = raw;
  const str = (k: string, nonEmpty = true) => {
    if (typeof m[k] !== "string" || (nonEmpty && (m[k] as string).trim() === ""))
      problems.push(`${k} must be a${nonEmpty ? " non-empty" : ""} string`);
  };
  if (typeof m.id !== "string" || !MANIFEST_ID_PATTERN.test(m.id))
    problems.push(`id must match ${MANIFEST_ID_PATTERN} (got ${JSON.stringify(m.id)})`);
  str("name");
  str("description", false);
  str("author", false);
  str("license", false);
  str("version");
  if (typeof m.version === "string" && !semver.valid(m.version)) problems.push(`version "${m.version}" is not semver`);
  str("main");
  if (typeof m.main === "string" && !insidePackage(m.main)) problems.push("main must be a relative path inside the plugin folder");

  if (typeof m.erpApi !== "string" || !semver.validRange(m.erpApi))
    problems.push(`erpApi must be a semver range (got ${JSON.stringify(m.erpApi)})`);
  else if (!semver.satisfies(hostApiVersion, m.erpApi))
    problems.push(`erpApi "${m.erpApi}" is not satisfied by this host's API version ${hostApiVersion}`);

  if (!Array.isArray(m.hooks)) problems.push("hooks must be an array of event names");
  else {
    for (const h of m.hooks) if (!KNOWN_EVENTS.includes(h as ErpEventName)) problems.push(`hooks: unknown event ${JSON.stringify(h)}`);
    if (new Set(m.hooks).size !== m.hooks.length) problems.push("hooks: duplicate event names");
  }

  const mig = m.migrations;
  if (!isObject(mig)) problems.push("migrations must be an object { directory, tableName }");
  else {
    if (typeof mig.directory !== "string" || !insidePackage(mig.directory))
      problems.push("migrations.directory must be a relative path inside the plugin folder");
    if (typeof mig.tableName !== "string" || !TABLE_NAME_PATTERN.test(mig.tableName))
      problems.push("migrations.tableName must be a table name");
  }

  if (!isObject(m.config)) problems.push("config must be a JSON Schema object");
  else if (m.config.type !== "object") problems.push('config must be a schema with type "object"');
  else {
    try {
      compileConfigSchema(m.config);
    } catch (err) {
      problems.push(`config is not a valid JSON Schema (draft 2020-12): ${(err as Error).message}`);
    }
  }

  if (!Array.isArray(m.actions)) problems.push("actions must be an array");
  else {
    const ids = new Set<string>();
    m.actions.forEach((a, i) => {
      if (!isObject(a) || typeof a.id !== "string" || a.id === "" || typeof a.label !== "string") {
        problems.push(`actions[${i}] must be { id: string, label: string, description?: string }`);
        return;
      }
      if (a.description !== undefined && typeof a.description !== "string") problems.push(`actions[${i}].description must be a string`);
      if (ids.has(a.id)) problems.push(`actions: duplicate id "${a.id}"`);
      ids.add(a.id);
    });
  }

  if (!Array.isArray(m.permissions)) problems.push("permissions must be an array");
  else {
    for (const p of m.permissions) {
      if (!(KNOWN_PERMISSIONS as readonly unknown[]).includes(p)) problems.push(`permissions: unknown permission ${JSON.stringify(p)}`);
    }
  }

  if (problems.length > 0) throw new ManifestError(problems);
  return m as unknown as PluginManifest;
}

export async function readManifest(pluginDir: string): Promise<PluginManifest> {
  const file = resolve(pluginDir, "manifest.json");
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new ManifestError([`cannot read ${file}: ${(err as Error).message}`]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ManifestError([`not valid JSON: ${(err as Error).message}`], file);
  }
  return validateManifest(raw);
}

function isPlugin(v: unknown): v is ErpPlugin {
  if (!isObject(v) && typeof v !== "function") return false;
  const p = v as { activate?: unknown; deactivate?: unknown };
  return typeof p.activate === "function" && typeof p.deactivate === "function";
}

/** Checks the shape of a plugin object (contract section 3); returns the problems. */
export function pluginProblems(plugin: unknown, manifest: PluginManifest): string[] {
  if (!isPlugin(plugin)) return ["the plugin object must have activate() and deactivate() functions"];
  const problems: string[] = [];
  if (plugin.uninstall !== undefined && typeof plugin.uninstall !== "function") problems.push("uninstall must be a function");
  if (plugin.health !== undefined && typeof plugin.health !== "function") problems.push("health must be a function");
  for (const a of manifest.actions) {
    if (typeof plugin.actions?.[a.id] !== "function") problems.push(`manifest action "${a.id}" has no function in plugin.actions`);
  }
  return problems;
}

/**
 * Loads `main` and takes its default export. With import(), a CommonJS module's default is
 * module.exports; a transpiled ESM module (exports.default + __esModule) needs one more step.
 */
export async function loadPlugin(pluginDir: string, manifest: PluginManifest): Promise<ErpPlugin> {
  const file = resolve(pluginDir, manifest.main);
  let ns: Record<string, unknown>;
  try {
    ns = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (err) {
    throw new ManifestError([`cannot load main ${file}: ${(err as Error).message}`]);
  }
  const def = ns.default;
  const candidates = [def, isObject(def) ? def.default : undefined];
  const plugin = candidates.find(isPlugin);
  if (!plugin) throw new ManifestError([`${manifest.main} has no default export with activate() and deactivate()`]);
  return plugin;
}
