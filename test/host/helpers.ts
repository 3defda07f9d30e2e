// Shared pieces of the reference host's tests: the fixture plugin, a recording logger, and
// hosts on a fresh test database.
import "../support/leak-check";
import { join } from "node:path";
import type { ErpPlugin, PluginLogger } from "../../plugin/core/host-api";
import { startHost, type Host, type HostOptions } from "../../dev/host";

export const FIXTURE_DIR = join(__dirname, "fixtures", "test-plugin");
export const ADMIN_TOKEN = "test-admin-token-0123456789";
export const SECRET_KEY = "test-secret-key";

export interface FixtureState {
  events: { name: string; payload: any; meta: { eventId: string; occurredAt: string; origin?: string }; committed: boolean | null }[];
  configChanges: Record<string, unknown>[];
  activations: number;
  deactivations: number;
  eventsDuringDeactivate: number;
  uninstalled: number;
  ctx: unknown;
  throwOn: Set<string>;
  deactivateDelayMs: number;
  handlerDelayMs: number;
  signalAbortedAt: number | null;
}
export type FixturePlugin = ErpPlugin & { state: FixtureState };

// eslint-disable-next-line @typescript-eslint/no-require-imports
const fixture = require(join(FIXTURE_DIR, "index.js")) as { createPlugin(o?: Record<string, unknown>): FixturePlugin };

export function createFixturePlugin(
  o: { throwOn?: string[]; deactivateDelayMs?: number; checkCommitted?: boolean; handlerDelayMs?: number } = {},
): FixturePlugin {
  return fixture.createPlugin(o);
}

export interface LogEntry {
  level: keyof PluginLogger;
  obj: Record<string, unknown>;
  msg: string | undefined;
}

export class RecordingLogger implements PluginLogger {
  readonly entries: LogEntry[] = [];
  private record(level: keyof PluginLogger, obj: object | string, msg?: string) {
    if (typeof obj === "string") this.entries.push({ level, obj: {}, msg: obj });
    else this.entries.push({ level, obj: obj as Record<string, unknown>, msg });
  }
  debug = (obj: object | string, msg?: string) => this.record("debug", obj, msg);
  info = (obj: object | string, msg?: string) => this.record("info", obj, msg);
  warn = (obj: object | string, msg?: string) => this.record("warn", obj, msg);
  error = (obj: object | string, msg?: string) => this.record("error", obj, msg);
  find(level: keyof PluginLogger, re: RegExp): LogEntry[] {
    return this.entries.filter((e) => e.level === level && re.test(e.msg ?? ""));
  }
}

export async function startTestHost(
  db: HostOptions["db"],
  o: Partial<HostOptions> & { plugin?: ErpPlugin } = {},
): Promise<{ host: Host; plugin: FixturePlugin; log: RecordingLogger }> {
  const log = new RecordingLogger();
  const plugin = (o.plugin as FixturePlugin | undefined) ?? createFixturePlugin();
  const host = await startHost({
    db,
    pluginDir: FIXTURE_DIR,
    plugin,
    adminToken: ADMIN_TOKEN,
    secretKey: SECRET_KEY,
    logger: log,
    configPollMs: 50,
    healthPollMs: 60_000,
    ...o,
  });
  return { host, plugin, log };
}

export const sampleOrder = (n = 1) => ({
  customer: { name: `Customer ${n}`, email: `c${n}@example.test` },
  shippingAddress: { line1: `${n} Main St`, city: "Springfield", postalCode: "12345", country: "US" },
  items: [{ sku: `SKU-${n}`, quantity: 2, unitPrice: "19.90" }],
  shipByDate: "2026-12-24",
});

export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
