// Issue #13 item 6: the plugin process's own memory. The ERP process (the reference host with
// the plugin loaded from dist/, as in the chaos run) runs as its own OS process; the sandbox,
// which keeps every product, order and request it was sent, runs here and is not counted.
// Figures come from the kernel (/proc/<pid>/status): VmRSS of the process once its plugin is
// active and idle, and VmHWM, its peak RSS over the whole run. Scenarios: the catalog import
// at 10,000 and 100,000 products, and the drain of a 100,000-order backlog (orders committed
// while the plugin was not running; the reconciliation at start finds them). SQLite (the
// embedded default), budget not limiting. Each scenario is a fresh database and process.
//   BENCH_MEMORY_PRODUCTS=10000,100000  BENCH_MEMORY_ORDERS=100000
//   BENCH_MEMORY_CONFIG='{"reconcileIntervalMinutes":60}'  (merged into the plugin's settings)
//   BENCH_MEMORY_HOST_NODE_OPTIONS=--max-old-space-size=64  (NODE_OPTIONS of the ERP process)
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import knexFactory, { type Knex } from "knex";
import { startSandbox, type Sandbox } from "../dev/sandbox";
import { systemClock } from "../plugin/core/clock";
import { KvStore } from "../plugin/core/kv-store";
import { requestRun } from "../plugin/core/runs";
import { freePort, HostProcess } from "../test/chaos/host-process";
import { newOrder } from "../test/support/builders";
import { hostOrderRow } from "../test/support/raw-orders";
import { benchProductRow, printTable, writeResult } from "./support";

const PRODUCTS = (process.env.BENCH_MEMORY_PRODUCTS ?? "10000,100000").split(",").filter(Boolean).map(Number);
const ORDERS = (process.env.BENCH_MEMORY_ORDERS ?? "100000").split(",").filter(Boolean).map(Number);
const API_KEY = "zenflow_bench_memory";
const UNLIMITED = { perMinute: 10_000_000, perHour: 10_000_000, perDay: 10_000_000 };

/** VmRSS and VmHWM of a process, in MiB. */
function memoryOf(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  return { rss: kb("VmRSS") / 1024, hwm: kb("VmHWM") / 1024 };
}

/** How many records the sandbox holds, by its API's `pagination.total`: the sandbox's own
 * orders()/products() deep-copy every record, which at 100,000 would stall the event loop the
 * sandbox serves the plugin from, and the plugin would be measured against a slow ZenFlow. */
async function totalIn(sandbox: Sandbox, path: "/orders" | "/products"): Promise<number> {
  const res = await fetch(`${sandbox.url}${path}?limit=1`, { headers: { "X-API-Key": API_KEY } });
  const body = (await res.json()) as { data?: { pagination?: { total?: number } } };
  return Number(body.data?.pagination?.total ?? NaN);
}

async function until(what: string, timeoutMs: number, test: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await test())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

interface Scenario {
  name: string;
  items: number;
  /** Writes the ERP's records while no ERP process runs. */
  seed(db: Knex, n: number): Promise<void>;
  /** Starts the work in the running process (nothing: it starts by itself). */
  trigger?(db: Knex): Promise<void>;
  done(sandbox: Sandbox): Promise<number>;
  requests(sandbox: Sandbox): number;
}

async function insertInChunks(db: Knex, table: string, n: number, row: (i: number) => Record<string, unknown>): Promise<void> {
  for (let i = 0; i < n; i += 500) {
    await db(table).insert(Array.from({ length: Math.min(500, n - i) }, (_, k) => row(i + k)));
  }
}

const catalog: Omit<Scenario, "items"> = {
  name: "catalog import",
  async seed(db, n) {
    // Dated before the plugin's first start: the catalog the import is for. (Products changed
    // while it was stopped would also be found by the product reconciliation, and sent twice over.)
    const now = "2026-01-01T00:00:00.000Z";
    await insertInChunks(db, "erp_products", n, (j) => benchProductRow(j, now));
  },
  async trigger(db) {
    // What the CLI and the config screen's action do: the running process picks the request up.
    await requestRun(new KvStore(db, systemClock), "import-catalog", "bench", Date.now());
  },
  done: (s) => totalIn(s, "/products"),
  requests: (s) => s.requests().filter((r) => r.path.endsWith("/products/bulk")).length,
};

const backlog: Omit<Scenario, "items"> = {
  name: "order backlog drain",
  async seed(db, n) {
    const now = new Date().toISOString();
    await insertInChunks(db, "erp_orders", n, (i) =>
      hostOrderRow(`ord_${i}`, { ...newOrder(i), number: `SO-M-${String(i).padStart(7, "0")}` }, now),
    );
  },
  done: (s) => totalIn(s, "/orders"),
  requests: (s) => s.requests().filter((r) => r.method === "POST" && r.path.endsWith("/orders")).length,
};

async function run(scenario: Scenario) {
  const dir = mkdtempSync(join(tmpdir(), "zenflow-memory-"));
  const file = join(dir, "erp.sqlite");
  const sandbox = await startSandbox({ keys: [{ key: API_KEY, scopes: ["admin"] }], limits: UNLIMITED });
  const config = {
    apiKey: API_KEY,
    baseUrl: sandbox.url,
    requestTimeoutMs: 30_000,
    rateLimitPerMinute: 100_000,
    rateLimitPerHour: 1_000_000,
    rateLimitPerDay: 10_000_000,
    ...(process.env.BENCH_MEMORY_CONFIG ? (JSON.parse(process.env.BENCH_MEMORY_CONFIG) as Record<string, unknown>) : {}),
  };
  const host = new HostProcess({
    name: "erp-memory",
    port: await freePort(),
    env: {
      DATABASE_URL: `sqlite:${file}`,
      ERP_ADMIN_TOKEN: "bench",
      ERP_SECRET_KEY: "bench-secret-key-for-config",
      LOG_LEVEL: "warn",
      // e.g. --max-old-space-size=64: does the work fit a small heap (what it keeps alive), whatever RSS V8 allows itself.
      ...(process.env.BENCH_MEMORY_HOST_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_MEMORY_HOST_NODE_OPTIONS } : {}),
    },
    logFile: join(dir, "host.log"),
  });
  const db = knexFactory({ client: "better-sqlite3", connection: { filename: file }, useNullAsDefault: true });
  try {
    // A first start creates the host's and the plugin's tables and saves the config.
    await host.start({ PLUGIN_CONFIG: JSON.stringify(config) });
    await host.stop();
    await scenario.seed(db, scenario.items);
    await host.start();
    const pid = host.pid!;
    await new Promise((r) => setTimeout(r, 1000));
    const idle = memoryOf(pid);
    const t0 = performance.now();
    await scenario.trigger?.(db);
    await until(
      `${scenario.items} in ZenFlow (${scenario.name})`,
      20 * 60_000,
      async () => (await scenario.done(sandbox)) >= scenario.items,
    );
    const wallMs = performance.now() - t0;
    const after = memoryOf(pid);
    return {
      scenario: scenario.name,
      items: scenario.items,
      inZenflow: await scenario.done(sandbox),
      requests: scenario.requests(sandbox),
      wallMs,
      idleRssMiB: idle.rss,
      peakRssMiB: after.hwm,
      addedMiB: after.hwm - idle.rss,
    };
  } finally {
    await host.close().catch(() => undefined);
    await db.destroy();
    await sandbox.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main() {
  const results = [];
  for (const n of PRODUCTS) results.push(await run({ ...catalog, items: n }));
  for (const n of ORDERS) results.push(await run({ ...backlog, items: n }));
  printTable(
    "the plugin process's own memory (ERP host + plugin in its own process; sandbox elsewhere; SQLite)",
    results.map((r) => ({
      scenario: r.scenario,
      items: r.items,
      "in ZenFlow": r.inZenflow,
      requests: r.requests,
      "wall s": r.wallMs / 1000,
      "idle RSS MiB": r.idleRssMiB,
      "peak RSS MiB": r.peakRssMiB,
      "added MiB": r.addedMiB,
    })),
  );
  const imports = results.filter((r) => r.scenario === catalog.name);
  if (imports.length > 1) {
    const [a, b] = [imports[0]!, imports[imports.length - 1]!];
    console.log(
      `\npeak RSS at ${b.items} vs ${a.items} products: ${(b.peakRssMiB / a.peakRssMiB).toFixed(2)}x for ${(b.items / a.items).toFixed(0)}x the catalog` +
        ` (added over idle: ${(b.addedMiB / Math.max(1, a.addedMiB)).toFixed(2)}x)`,
    );
  }
  console.log(`\nwritten ${writeResult("plugin-memory", { results })}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
