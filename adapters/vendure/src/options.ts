// ZenflowPlugin.init() options, checked when vendure-config.ts is loaded, so a typo in a
// setting stops the start with a clear message instead of surfacing later.
import type { ErpPlugin, PluginManifest } from "zenflow-erp-plugin/host-api";
import { compileConfigSchema, isObject } from "./config-schema";
import { VENDURE_CONFIG_DEFAULTS } from "./vendure-defaults";

/** The manifest's config properties (see the core package's README, "Configuration"). */
export interface ZenflowSettings {
  apiKey?: string;
  baseUrl?: string;
  requestTimeoutMs?: number;
  eligibleStatuses?: string[];
  statusMap?: Record<string, string>;
  orderBatchSize?: number;
  batchWindowMs?: number;
  reconcileIntervalMinutes?: number;
  reconcileLookbackHours?: number;
  productBarcodeFallback?: "use-sku" | "skip";
  stockSource?: "none" | "erp" | "zenflow";
  locationMap?: Record<string, string>;
  defaultLocationId?: string;
  stockFullSyncCron?: string;
  rateLimitPerMinute?: number;
  rateLimitPerHour?: number;
  rateLimitPerDay?: number;
  maxConcurrentRequests?: number;
  maxAttempts?: number;
  webhookSecret?: string;
  webhookSignatureHeader?: string;
  webhookSignatureEncoding?: "auto" | "hex" | "base64";
  backstopIntervalMinutes?: number;
  backstopMinAgeMinutes?: number;
  retentionDays?: number;
}

export interface ZenflowPluginInitOptions {
  /** Defaults for the settings; values saved in Vendure's admin win. */
  config?: ZenflowSettings;
  /**
   * The shop's external base URL, e.g. https://shop.example.com. ZenFlow's webhooks reach the
   * plugin at `${publicUrl}/plugins/zenflow/…`, which this Vendure server serves.
   */
  publicUrl: string;
  /** Key for encrypting the saved API key and webhook secret; default ZENFLOW_SECRET_KEY (see README). */
  secretKey?: string;
  /** The ProductVariant custom field holding the barcode (EAN/GTIN), if any; default "barcode". */
  barcodeCustomField?: string;
  /** How often each process looks for settings saved by another process; default 1000 ms. */
  configPollMs?: number;
  /** Deadline for the plugin's deactivate() on shutdown; default 30 s (the contract's). */
  deactivateTimeoutMs?: number;
  /** A plugin instance to run instead of the package's default one (tests, tuning). */
  plugin?: ErpPlugin;
}

export interface ResolvedOptions {
  base: Record<string, unknown>;
  publicUrl: string;
  secretKey?: string;
  barcodeField: string;
  configPollMs: number;
  deactivateTimeoutMs: number;
  plugin?: ErpPlugin;
}

export const PUBLIC_PREFIX = "/plugins";
export const ADMIN_PREFIX = "/admin/plugins";
export const SETTINGS_PATH = "/admin/zenflow";

/** `${publicUrl}/plugins/<id>`; a publicUrl that already ends so is taken as it is. */
export function pluginPublicUrl(publicUrl: string, id: string): string {
  const trimmed = publicUrl.replace(/\/+$/, "");
  const suffix = `${PUBLIC_PREFIX}/${id}`;
  return trimmed.endsWith(suffix) ? trimmed : `${trimmed}${suffix}`;
}

export function resolveOptions(o: ZenflowPluginInitOptions, manifest: PluginManifest): ResolvedOptions {
  if (!o || typeof o.publicUrl !== "string") throw new Error("ZenflowPlugin.init: publicUrl is required (the shop's external URL)");
  try {
    new URL(o.publicUrl);
  } catch {
    throw new Error("ZenflowPlugin.init: publicUrl must be an absolute URL such as https://shop.example.com");
  }
  const config = o.config ?? {};
  if (!isObject(config)) throw new Error("ZenflowPlugin.init: config must be an object of ZenFlow settings");
  const base = { ...VENDURE_CONFIG_DEFAULTS, ...(config as Record<string, unknown>) };
  const schema = compileConfigSchema(manifest.config);
  // The API key may well come later, from the admin: only wrong values stop the start.
  const problems = schema.validate(schema.withDefaults(base)).filter((p) => !p.endsWith(": is required"));
  if (problems.length) throw new Error(`ZenflowPlugin.init: invalid config — ${problems.join("; ")}`);
  return {
    base,
    publicUrl: pluginPublicUrl(o.publicUrl, manifest.id),
    secretKey: o.secretKey,
    barcodeField: o.barcodeCustomField ?? "barcode",
    configPollMs: o.configPollMs ?? 1000,
    deactivateTimeoutMs: o.deactivateTimeoutMs ?? 30_000,
    plugin: o.plugin,
  };
}
