// A whole stack for integration tests: the ZenFlow sandbox over real HTTP, one or more
// reference hosts ("ERP processes") on one real database, each with its own plugin instance.
import { labelPort, trackOpen } from "./leak-check";
import { join } from "node:path";
import { startHost, type Host } from "../../dev/host";
import { startSandbox, type Sandbox, type SandboxOptions } from "../../dev/sandbox";
import { createZenflowPlugin, type PluginOptions, type ZenflowPlugin } from "../../plugin/index";
import { createTestDb, type TestDb, type TestDbKind } from "./db";
import { recordingLogger, type RecordingLogger } from "./recording-logger";

export const ROOT = join(__dirname, "..", "..");
export const SANDBOX_KEY = "zenflow_test_sandbox";

export interface ErpProcess {
  host: Host;
  plugin: ZenflowPlugin;
  log: RecordingLogger;
}

export interface Stack {
  db: TestDb;
  sandbox: Sandbox;
  procs: ErpProcess[];
  /** The first process, for single-process tests. */
  main: ErpProcess;
  config: Record<string, unknown>;
  addProcess(opts?: PluginOptions): Promise<ErpProcess>;
  /** Drains every process's outbox with runOnce until nothing is due. */
  drain(): Promise<number>;
  close(): Promise<void>;
}

export interface StackOptions {
  sandbox?: SandboxOptions;
  plugin?: PluginOptions;
  config?: Record<string, unknown>;
  processes?: number;
  /** Save config before enabling (default true). */
  configure?: boolean;
  /** Host option: each ctx.erp read holds a DB connection this long (benchmarks). */
  erpReadCostMs?: number;
}

/** Fast settings for tests: tiny batch window, short polls and leases. */
export const TEST_TUNING: PluginOptions = {
  pollMs: 50,
  leaseMs: 5000,
  schedulerTickMs: 100000,
  boundaryGuardMs: 0,
  backoff: { baseMs: 20, capMs: 200 },
  // Tests drain queues step by step: nothing may wait for a debounce unless a test asks.
  debounceMs: {},
};

export async function startStack(kind: TestDbKind, opts: StackOptions = {}): Promise<Stack> {
  const db = await createTestDb(kind);
  const sandbox = await startSandbox(opts.sandbox ?? {});
  labelPort(sandbox.port, "the ZenFlow sandbox");
  let closed = false;
  trackOpen(`a stack (startStack "${kind}", sandbox on port ${sandbox.port})`, () => !closed);
  const config: Record<string, unknown> = {
    apiKey: SANDBOX_KEY,
    baseUrl: sandbox.url,
    batchWindowMs: 5,
    requestTimeoutMs: 3000,
    ...opts.config,
  };
  const procs: ErpProcess[] = [];
  const stack: Stack = {
    db,
    sandbox,
    procs,
    get main() {
      return procs[0]!;
    },
    config,
    async addProcess(extra: PluginOptions = {}) {
      const log = recordingLogger();
      const plugin = createZenflowPlugin({ ...TEST_TUNING, ...opts.plugin, ...extra, workerId: `p${procs.length + 1}` });
      const host = await startHost({
        // Separate pools on MariaDB, as separate processes would have. On SQLite the "processes"
        // share one connection: better-sqlite3 blocks the thread while it waits for a lock, so two
        // connections in one OS process can stall each other (real processes do not).
        db: procs.length && db.kind === "mariadb" ? db.connect() : db.knex,
        pluginDir: ROOT,
        plugin,
        logger: log,
        processName: `erp-${procs.length + 1}`,
        configPollMs: 100,
        healthPollMs: 3_600_000,
        secretKey: "test-secret-key-for-host-config-encryption",
        erpReadCostMs: opts.erpReadCostMs,
      });
      labelPort(Number(new URL(host.url).port), `reference host erp-${procs.length + 1}`);
      await host.install();
      if (opts.configure !== false && !procs.length) {
        const saved = await host.saveConfig(config);
        if (!saved.ok) throw new Error(`test config refused by the host: ${JSON.stringify(saved)}`);
      }
      await host.enable();
      const p = { host, plugin, log };
      procs.push(p);
      return p;
    },
    async drain() {
      let total = 0;
      for (let round = 0; round < 50; round++) {
        let n = 0;
        for (const p of procs) {
          const engine = p.plugin.runtime()?.engine;
          if (engine) n += await engine.worker.drain();
        }
        total += n;
        if (!n) break;
      }
      return total;
    },
    async close() {
      for (const p of procs.splice(0).reverse()) await p.host.close().catch(() => undefined);
      await sandbox.close();
      await db.destroy();
      closed = true;
    },
  };
  const n = opts.processes ?? 1;
  try {
    for (let i = 0; i < n; i++) await stack.addProcess();
  } catch (err) {
    // A stack that failed to start must not keep the test process alive.
    await stack.close().catch(() => undefined);
    throw err;
  }
  return stack;
}

/** Polls `fn` until it returns a truthy value or `timeoutMs` passes. */
export async function eventually<T>(fn: () => Promise<T> | T, timeoutMs = 10_000, what = "condition"): Promise<T> {
  const start = Date.now();
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Until `jobs` live jobs (of `kind`, when given) are in the outbox: the hooks' recorder writes
 * in the background, routing is the worker's.
 */
export async function routeAll(stack: Stack, jobs: number, kind?: string): Promise<void> {
  const parts = stack.main.plugin.runtime()!.parts;
  await eventually(
    async () => {
      await parts.recorder.flush();
      while ((await parts.eventLog.route()) > 0);
      const n = await stack.db
        .knex("zenflow_outbox")
        .where({ status: "pending", ...(kind ? { kind } : {}) })
        .count({ n: "*" })
        .first();
      return Number(n!.n) === jobs;
    },
    15_000,
    `${jobs} jobs in the outbox`,
  );
}

/** What the warehouse does in ZenFlow: creates a product, which order lines then refer to by barcode. */
export async function addSandboxProduct(stack: Stack, barcode: string, name = `Product ${barcode}`, sku = `SB-${barcode}`): Promise<void> {
  const res = await fetch(`${stack.sandbox.url}/products`, {
    method: "POST",
    headers: { "X-API-Key": SANDBOX_KEY, "Content-Type": "application/json" },
    body: JSON.stringify({ name, barcode, sku }),
  });
  if (res.status !== 201) throw new Error(`the sandbox refused product ${barcode}: ${res.status} ${await res.text()}`);
}
