// The plugin's configuration: one zod schema that both validates what the host hands
// us and generates the manifest's JSON Schema (scripts/gen-manifest.ts). A test fails
// when manifest.json and this file drift apart. Property order is screen order.
import { Cron } from "croner";
import { z } from "zod";

export const ZENFLOW_STATES = ["Pending", "In Progress", "Packed", "Completed", "Cancelled"] as const;
export type ZenflowStateName = (typeof ZENFLOW_STATES)[number];

/** Position along ZenFlow's fulfilment order (Pending 1 … Cancelled 5); 0 for anything else. */
export function stateRank(state: string): number {
  return ZENFLOW_STATES.indexOf(state as ZenflowStateName) + 1;
}

export const DEFAULT_STATUS_MAP: Record<ZenflowStateName, string> = {
  Pending: "awaiting_fulfillment",
  "In Progress": "picking",
  Packed: "ready_to_ship",
  Completed: "shipped",
  Cancelled: "cancelled",
};

/** A cron expression croner accepts and that ever fires ("99 * * * *" is refused, not silently never run). */
const cron = z
  .string()
  .regex(/^\s*\S+(\s+\S+){4,5}\s*$/, "must be a cron expression with 5 or 6 fields, e.g. 0 3 * * *")
  .refine((expr) => {
    try {
      return new Cron(expr, { timezone: "UTC", paused: true }).nextRun() !== null;
    } catch {
      return false;
    }
  }, "is not a cron expression that ever runs (minute 0-59, hour 0-23, day 1-31, month 1-12, weekday 0-7)");

/** Loopback hosts, where plain http is allowed (the sandbox, tests, a local proxy). */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h.endsWith(".localhost") || h === "::1" || /^127(\.\d{1,3}){3}$/.test(h);
}

/** https:// only; http:// only to a loopback address. Credentials in the URL are refused too. */
export function apiAddressProblem(value: string): string | null {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    return "is not a URL";
  }
  if (u.username || u.password) return "must not contain a user name or password";
  if (u.protocol === "https:") return null;
  if (u.protocol === "http:" && isLoopbackHost(u.hostname)) return null;
  return "must be an https:// address (plain http:// only for 127.0.0.1 or localhost)";
}

const apiAddress = z
  .string()
  .regex(/^https?:\/\/\S+$/, "must start with https://")
  .superRefine((v, ctx) => {
    const problem = apiAddressProblem(v);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });

export const configSchema = z.object({
  apiKey: z.string().trim().min(8, "is too short to be a ZenFlow API key").meta({
    title: "ZenFlow API key",
    description:
      "Create it in ZenFlow under Settings > API Keys (it starts with zenflow_live_). It needs the scopes read:orders, write:orders, write:products, read:stock, write:stock, read:webhooks and write:webhooks — the 'Full Access' preset has them all. Stored encrypted and never shown again.",
    writeOnly: true,
  }),
  baseUrl: apiAddress.default("https://api.zenflow.com.ar/api/v1").meta({
    title: "ZenFlow API address",
    description: "Leave as is unless ZenFlow support gives you another address (for example a test environment).",
  }),
  requestTimeoutMs: z.number().int().min(1000).max(120000).default(15000).meta({
    title: "Request timeout (ms)",
    description: "How long to wait for ZenFlow to answer one request before trying again later.",
  }),

  eligibleStatuses: z.array(z.string().min(1)).min(1).default(["awaiting_fulfillment"]).meta({
    title: "ERP order statuses to send",
    description:
      "An ERP order is sent to ZenFlow the first time its status is one of these codes (for example, drafts stay in the ERP until they are confirmed).",
  }),
  statusMap: z.record(z.string(), z.string().min(1)).default(DEFAULT_STATUS_MAP).meta({
    title: "ZenFlow state → ERP status",
    description:
      "Which ERP status an order gets when the warehouse moves it to a ZenFlow state (Pending, In Progress, Packed, Completed, Cancelled). The Cancelled entry is also the ERP status that means 'cancel in ZenFlow'.",
  }),
  orderBatchSize: z.number().int().min(1).max(100).default(50).meta({
    title: "Orders per request",
    description: "How many new orders are sent to ZenFlow in one request. Larger batches save rate budget.",
  }),
  batchWindowMs: z.number().int().min(0).max(2000).default(25).meta({
    title: "Batch wait (ms)",
    description: "How long the sender waits after an ERP change for more changes to join the same request.",
  }),
  batchHoldSeconds: z.number().int().min(0).max(300).default(5).meta({
    title: "Longest wait for a fuller batch (s)",
    description:
      "Only while the rate budget is what limits sending: a request with fewer orders (products, stock levels) than it can carry waits up to this long for more to join it, so the budget carries full requests. While the budget is plentiful nothing waits. 0: never wait.",
  }),
  reconcileIntervalMinutes: z.number().int().min(1).max(1440).default(1).meta({
    title: "Reconciliation interval (minutes)",
    description:
      "How often the plugin compares ERP orders, products and stock with what it has sent, so a change missed during a crash is still delivered. It also runs at every start. It reads only the ERP's database and uses no ZenFlow requests.",
  }),
  reconcileLookbackHours: z
    .number()
    .int()
    .min(1)
    .max(24 * 90)
    .default(168)
    .meta({
      title: "Reconciliation look-back (hours)",
      description: "On its first run, the reconciliation looks at ERP orders changed within this many hours.",
    }),

  productBarcodeFallback: z.enum(["use-sku", "skip"]).default("use-sku").meta({
    title: "Products without a barcode",
    description:
      "ZenFlow identifies products by barcode. 'use-sku' sends the SKU as the barcode; 'skip' leaves such products out and lists them as needing attention.",
  }),
  stockSource: z.enum(["none", "erp", "zenflow"]).default("none").meta({
    title: "Who owns stock levels",
    description:
      "'erp': ERP stock changes are pushed to ZenFlow. 'zenflow': ZenFlow's stock is copied into the ERP. 'none': stock is not synchronised.",
  }),
  locationMap: z.record(z.string(), z.string().min(1)).default({}).meta({
    title: "ERP location → ZenFlow location",
    description:
      'Maps ERP stock location ids to ZenFlow location_id values, e.g. {"main": "LOC-A1"}. Locations not listed use the default location below.',
  }),
  defaultLocationId: z.string().default("").meta({
    title: "Default ZenFlow location",
    description: "ZenFlow location_id for ERP locations missing from the map. Leave empty to use the ERP location id unchanged.",
  }),
  stockFullSyncCron: cron.default("0 3 * * *").meta({
    title: "Full stock sync schedule (UTC cron)",
    description: "When all stock levels are compared in full (default: every day at 03:00 UTC).",
  }),
  stockSyncDriftGuard: z.boolean().default(false).meta({
    title: "Stop the full stock sync on large drift",
    description:
      "When on, the full stock sync compares first and, if more levels differ than the two limits below allow, writes nothing: it keeps the drift report for you to review (ZenFlow dashboard > Stock drift) and waits for the action 'Sync stock anyway'.",
  }),
  stockSyncDriftMaxLevels: z.number().int().min(0).max(10_000_000).default(1000).meta({
    title: "Drift guard: most differing levels",
    description: "With the drift guard on, the full sync stops when more stock levels than this differ.",
  }),
  stockSyncDriftMaxPercent: z.number().min(0).max(100).default(10).meta({
    title: "Drift guard: largest differing share (%)",
    description: "With the drift guard on, the full sync stops when a larger share of the compared stock levels than this differs.",
  }),

  rateLimitPerMinute: z
    .number()
    .int()
    .min(1)
    .max(100000)
    .default(60)
    .meta({ title: "ZenFlow requests per minute", description: "Your key's per-minute budget. ZenFlow's default is 60." }),
  rateLimitPerHour: z
    .number()
    .int()
    .min(1)
    .max(1000000)
    .default(1000)
    .meta({ title: "ZenFlow requests per hour", description: "Your key's hourly budget. ZenFlow's default is 1,000." }),
  rateLimitPerDay: z
    .number()
    .int()
    .min(1)
    .max(10000000)
    .default(10000)
    .meta({ title: "ZenFlow requests per day", description: "Your key's daily budget. ZenFlow's default is 10,000." }),
  maxConcurrentRequests: z.number().int().min(1).max(8).default(2).meta({
    title: "Parallel requests per ERP process",
    description: "How many requests one ERP process may have in flight to ZenFlow at once.",
  }),
  maxServerDelaySeconds: z.number().int().min(1).max(86_400).default(3600).meta({
    title: "Longest pause ZenFlow may ask for (seconds)",
    description:
      "A Retry-After or rate-limit reset longer than this is shortened to it, so one odd answer cannot stop sending for days. An admin can also resume sending at once from the ZenFlow dashboard or with `zenflow-erp resume`.",
  }),
  maxAttempts: z.number().int().min(1).max(100).default(25).meta({
    title: "Attempts before giving up",
    description:
      "How many times a change is retried after ZenFlow errors or outages (with growing pauses, about 2 days in total) before it is listed as failed.",
  }),

  webhookSecret: z.string().optional().meta({
    title: "Webhook secret (optional)",
    description:
      "Only needed if you created the webhook yourself in ZenFlow's dashboard. Normally the plugin registers its webhook and keeps the secret itself.",
    writeOnly: true,
  }),
  webhookSignatureHeader: z.string().min(1).default("X-ZenFlow-Signature").meta({
    title: "Webhook signature header",
    description: "The HTTP header that carries ZenFlow's signature on webhook deliveries.",
  }),
  webhookSignatureEncoding: z.enum(["auto", "hex", "base64"]).default("auto").meta({
    title: "Webhook signature encoding",
    description: "How the signature is written: 'auto' accepts sha256=<hex>, bare hex and base64 (ZenFlow's format is not documented yet).",
  }),
  backstopIntervalMinutes: z.number().int().min(5).max(1440).default(60).meta({
    title: "Order status check interval (minutes)",
    description: "How often the plugin asks ZenFlow for the state of open orders, in case a webhook was lost.",
  }),
  backstopMinAgeMinutes: z.number().int().min(5).max(43200).default(120).meta({
    title: "Check orders open for more than (minutes)",
    description: "Only orders sent at least this long ago and still open in the ERP are checked.",
  }),
  retentionDays: z.number().int().min(1).max(3650).default(30).meta({
    title: "Keep history for (days)",
    description: "Finished jobs, processed webhooks and history older than this are deleted.",
  }),
});

export type ZenflowConfig = z.output<typeof configSchema>;

export type ConfigResult = { ok: true; config: ZenflowConfig } | { ok: false; reason: string };

/** Parses host config; the reason names fields in the admin's words, never the values. */
export function parseConfig(raw: Record<string, unknown>): ConfigResult {
  if (raw.apiKey === undefined || raw.apiKey === null || raw.apiKey === "") {
    return { ok: false, reason: "No ZenFlow API key is set: open the plugin's settings and enter one." };
  }
  const result = configSchema.safeParse(raw);
  if (result.success) return { ok: true, config: result.data };
  const titles = configSchema.shape as Record<string, { meta?: () => { title?: string } | undefined }>;
  const problems = result.error.issues.map((issue) => {
    const key = String(issue.path[0] ?? "");
    const title = titles[key]?.meta?.()?.title ?? key;
    // Zod's messages describe types, never echo the value, so they are safe to show.
    return `${title}: ${issue.message}`;
  });
  return { ok: false, reason: `The settings are not valid — ${problems.join("; ")}` };
}

/** The manifest's `config` JSON Schema, generated from the zod schema. */
export function configJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(configSchema, { target: "draft-2020-12", io: "input" }) as Record<string, unknown>;
}

/** The ERP status that means "cancelled", taken from the status map. */
export function erpCancelledStatus(config: ZenflowConfig): string {
  return config.statusMap.Cancelled ?? DEFAULT_STATUS_MAP.Cancelled;
}
