// The chaos run: three ERP processes (dev/host/main.ts, each its own OS process, the plugin
// loaded from dist/) on one MariaDB schema, each connected through a TCP proxy the runner
// controls; the ZenFlow sandbox injecting 5xx, hangs, resets and 429s under a tight budget;
// a driver streaming ERP changes through the processes' HTTP API; one SIGKILL + restart,
// twice; every database connection dropped once. Then faults stop, the system drains, and
// verify.ts checks the end state and the sandbox's judgement of the combined traffic.
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import type { Knex } from "knex";
import { type FaultKind, type RateLimits, type RequestLogEntry, type Sandbox, startSandbox } from "../../dev/sandbox";
import { mulberry32 } from "../../dev/sandbox/rng";
import { MARIADB_URL, createTestDb, type TestDb } from "../support/db";
import { type Balancer, startBalancer } from "./balancer";
import { Driver } from "./driver";
import { ErpClient } from "./erp-client";
import { type Features, describeFeatures, staticFeatures, waitForWebhookSubscription } from "./features";
import { HostProcess, freePort } from "./host-process";
import type { ChaosSize } from "./sizes";
import { type TcpProxy, startTcpProxy } from "./tcp-proxy";
import { writeDiagnosis } from "./diagnose";
import { type Verdict, verifyBudget, verifyState } from "./verify";

export const ROOT = join(__dirname, "..", "..");
const API_KEY = "zenflow_chaos_key_0001";
const ADMIN_TOKEN = "chaos-admin-token";
const PLUGIN_ID = "zenflow";
const STATUS_MAP = {
  "In Progress": "picking",
  Packed: "ready_to_ship",
  Completed: "shipped",
  Cancelled: "cancelled",
  Pending: "awaiting_fulfillment",
};
const LOCATION_MAP = { main: "LOC-A1", backroom: "LOC-A2" };
/** 5xx and resets are the common failures; hangs and 429s are rarer but the costliest. */
const FAULT_KINDS: FaultKind[] = ["5xx", "5xx", "reset", "reset-after", "reset-after", "hang", "429"];
const RETRY_AFTER_S = 1;
const GRACE_MS = 250;

export interface KillRecord {
  process: string;
  atMs: number;
  /** Outbox jobs the process held (claimed, mid-send) when it was killed. */
  heldJobs: number;
  restartedAfterMs: number;
}

export interface ChaosResult {
  ok: boolean;
  size: ChaosSize["name"];
  seed: number;
  features: Features;
  limits: RateLimits;
  problems: string[];
  facts: Record<string, number>;
  requests: Record<string, number>;
  faults: Record<string, number>;
  kills: KillRecord[];
  dbDrop: { atMs: number; ms: number; connectionsDropped: number; refused: number };
  budget: {
    key: string;
    maxPerMinuteWindow: number;
    maxInAnySliding60s: number;
    maxPerHourWindow: number;
    limit429s: number;
    injected429s: number;
    violations: number;
    requests: number;
  };
  /** Minute windows with traffic, those that used the whole budget, and the time it was used up. */
  windows: { total: number; atLimit: number; exhaustedMs: number; spanMs: number; sampledMs: number; usedUpMs: number };
  driver: { ops: Record<string, number>; resent: number; failed: number };
  /** Requests that arrived after an injected 429, inside its Retry-After: how many, how late at most. */
  inFlightAt429: { count: number; maxMs: number; graceMs: number };
  /** Event-loop delay of the runner (sandbox, proxy, driver) during the stream. */
  runnerLagMs: { p99: number; max: number };
  durations: { streamMs: number; drainMs: number; totalMs: number };
  logDir: string;
}

export interface RunOptions {
  seed?: number;
  keepDb?: boolean;
  log?: (msg: string) => void;
}

export async function runChaos(size: ChaosSize, opts: RunOptions = {}): Promise<ChaosResult> {
  const seed = opts.seed ?? Math.floor(Math.random() * 2 ** 31);
  const say = opts.log ?? ((m: string) => console.log(`[chaos ${((Date.now() - t0) / 1000).toFixed(1)}s] ${m}`));
  const t0 = Date.now();
  const runId = randomBytes(2).toString("hex").toUpperCase();
  const logDir = join(ROOT, "var", "chaos", `${new Date().toISOString().replace(/[:.]/g, "-")}-${size.name}`);
  mkdirSync(logDir, { recursive: true });
  const limits: RateLimits = { perMinute: size.perMinute, perHour: 100_000, perDay: 1_000_000 };

  const cleanups: Array<() => Promise<unknown>> = [];
  let keepDb = opts.keepDb ?? false;
  const hosts: HostProcess[] = [];
  // If the runner itself dies, its ERP processes must not outlive it.
  const killAll = () => hosts.forEach((h) => h.pid && process.kill(h.pid, "SIGKILL"));
  process.once("exit", killAll);
  try {
    const db: TestDb = await createTestDb("mariadb");
    cleanups.push(() => (keepDb ? db.knex.destroy() : db.destroy()));
    const sandbox: Sandbox = await startSandbox({
      keys: [{ key: API_KEY, scopes: ["admin"] }],
      limits,
      seed,
      // A request that left before the 429 was known is in flight, not a violation. With three
      // processes, MariaDB and this runner on two cores, "known" means: the 429 reached one
      // process, which recorded the pause for the others. The plugin's own estimate of time on
      // the wire (its 250 ms boundary guard) is the tolerance; every late arrival is reported.
      retryAfterGraceMs: GRACE_MS,
      // Deliveries keep trying for about a minute, long enough to outlast a killed process.
      webhook: { maxAttempts: 10, retryBaseMs: 250, timeoutMs: 5000 },
    });
    cleanups.push(() => sandbox.close());
    const mariadb = new URL(MARIADB_URL);
    const proxy: TcpProxy = await startTcpProxy({ host: mariadb.hostname, port: Number(mariadb.port || 3306) });
    cleanups.push(() => proxy.close());
    const balancer: Balancer = await startBalancer(() => hosts.filter((h) => h.ready).map((h) => h.url));
    cleanups.push(() => balancer.close());

    const viaProxy = new URL(db.url);
    viaProxy.host = `127.0.0.1:${proxy.port}`;
    const config = {
      apiKey: API_KEY,
      baseUrl: sandbox.url,
      requestTimeoutMs: 3000,
      reconcileIntervalMinutes: 1,
      rateLimitPerMinute: limits.perMinute,
      rateLimitPerHour: limits.perHour,
      rateLimitPerDay: limits.perDay,
      maxConcurrentRequests: 2,
      statusMap: STATUS_MAP,
      stockSource: "erp",
      locationMap: LOCATION_MAP,
    };
    for (let i = 1; i <= 3; i++) {
      const h = new HostProcess({
        name: `erp-${i}`,
        port: await freePort(),
        logFile: join(logDir, `erp-${i}.log`),
        env: {
          DATABASE_URL: viaProxy.toString(),
          ERP_ADMIN_TOKEN: ADMIN_TOKEN,
          ERP_SECRET_KEY: "chaos-secret-key-for-config-encryption",
          PUBLIC_BASE_URL: balancer.url,
          LOG_LEVEL: "info",
          CONFIG_POLL_MS: "500",
          HEALTH_POLL_MS: "10000",
        },
      });
      hosts.push(h);
    }
    cleanups.push(() => Promise.all(hosts.map((h) => h.close())));
    // The first process installs and saves the config; the others find it in the database.
    await hosts[0]!.start({ PLUGIN_CONFIG: JSON.stringify(config) });
    await Promise.all(hosts.slice(1).map((h) => h.start()));
    say(`3 ERP processes up (pids ${hosts.map((h) => h.pid).join(", ")}), DB through proxy :${proxy.port}, logs in ${logDir}`);

    const features: Features = { ...staticFeatures(), webhooks: await waitForWebhookSubscription(sandbox, 8000) };
    say(`features: ${describeFeatures(features)}; seed ${seed}; budget ${limits.perMinute}/min`);

    const clients = new Map(hosts.map((h) => [h, new ErpClient(h.url, ADMIN_TOKEN)]));
    const driver = new Driver({
      runId,
      rng: mulberry32(seed ^ 0x5eed),
      hosts: () => hosts.filter((h) => h.ready).map((h) => clients.get(h)!),
      sandbox,
      features,
      ordersPerSecond: size.ordersPerSecond,
      products: size.products,
      catalogOpsPerSecond: size.catalogOpsPerSecond,
      log: say,
    });
    await driver.seedCatalog();

    // ---- the stream, with faults, kills and the database drop ----
    sandbox.setFaults({ rate: size.faultRate, kinds: FAULT_KINDS, hangMs: 5000, retryAfterSeconds: RETRY_AFTER_S, path: /^\/api\/v1\// });
    // The sandbox stamps a request when this process gets to it: a busy runner (it also carries
    // every database byte through the proxy) makes requests look later than they were sent.
    const lag = monitorEventLoopDelay({ resolution: 10 });
    lag.enable();
    const streamStart = Date.now();
    const sampler = sampleBudget(db.knex, limits.perMinute);
    driver.start();
    const kills: KillRecord[] = [];
    const dbDrop = { atMs: 0, ms: size.dbDropMs, connectionsDropped: 0, refused: 0 };
    const events: Array<{ at: number; run: () => Promise<void> }> = [
      // One process is killed twice: first whichever is mid-send, then the same one again.
      ...size.killsAt.map((f) => ({
        at: f * size.streamMs,
        run: () => killAndRestart(db.knex, hosts, size.restartAfterMs, streamStart, kills, say, kills[0]?.process),
      })),
      {
        at: size.dbDropAt * size.streamMs,
        run: async () => {
          dbDrop.atMs = Date.now() - streamStart;
          say(`dropping every database connection for ${size.dbDropMs} ms`);
          const before = { ...proxy.stats };
          await proxy.drop(size.dbDropMs);
          dbDrop.connectionsDropped = proxy.stats.dropped - before.dropped;
          dbDrop.refused = proxy.stats.refused - before.refused;
          say(`database back (${dbDrop.connectionsDropped} connections cut, ${dbDrop.refused} refused meanwhile)`);
        },
      },
    ].sort((a, b) => a.at - b.at);
    for (const e of events) {
      await sleep(Math.max(0, streamStart + e.at - Date.now()));
      await e.run();
    }
    await sleep(Math.max(0, streamStart + size.streamMs - Date.now()));
    sandbox.setFaults(null);
    lag.disable();
    say("stream over, faults off; waiting for the last ERP calls");
    await driver.stop();
    const streamMs = Date.now() - streamStart;
    say(`driver done: ${JSON.stringify(driver.stats.ops)}; ${driver.stats.resent} resent`);

    // ---- drain: poll until the end state is right, or give up ----
    const expectations = { runId, pluginId: PLUGIN_ID, statusMap: STATUS_MAP, locationMap: LOCATION_MAP, features };
    const drainStart = Date.now();
    let verdict: Verdict = await verifyState(db.knex, sandbox, driver, expectations);
    let lastReport = 0;
    while (!verdict.ok && Date.now() - drainStart < size.drainTimeoutMs) {
      if (Date.now() - lastReport > 15_000) {
        lastReport = Date.now();
        say(`draining: ${verdict.problems.length} open points, first: ${verdict.problems[0]?.slice(0, 160)}`);
      }
      await sleep(2000);
      verdict = await verifyState(db.knex, sandbox, driver, expectations);
    }
    const drainMs = Date.now() - drainStart;
    const budgetUsedUp = sampler.stop();
    say(verdict.ok ? `converged after ${(drainMs / 1000).toFixed(1)} s` : `did not converge within ${size.drainTimeoutMs / 1000} s`);

    const budgetCheck = verifyBudget(sandbox.budgetReport(), limits);
    const problems = [...verdict.problems, ...budgetCheck.problems];
    if (driver.stats.failed.length)
      problems.push(
        `ERP calls that failed for good: ${driver.stats.failed.length} — ${driver.stats.failed
          .slice(0, 5)
          .map((f) => `${f.op}: ${f.error}`)
          .join("; ")}`,
      );
    if (problems.length) {
      say(`evidence written to ${await writeDiagnosis(logDir, db.knex, sandbox, problems)}`);
      keepDb = true;
      say(`database kept for a post-mortem: ${db.url}`);
    }
    const b = budgetCheck.budget;
    return {
      ok: problems.length === 0,
      size: size.name,
      seed,
      features,
      limits,
      problems,
      facts: { ...verdict.facts, ordersCreated: [...driver.orders.values()].filter((o) => o.created).length, ...ordersPerCreate(sandbox) },
      requests: countBy(sandbox.requests(), (r) => `${r.method} ${r.path.replace(/\/\d+|\/SO-[\w-]+/g, "/:id")}`),
      faults: countBy(
        sandbox.requests().filter((r) => r.fault),
        (r) => r.fault!,
      ),
      kills,
      dbDrop,
      budget: {
        key: budgetCheck.key,
        maxPerMinuteWindow: b?.maxPerMinuteWindow ?? 0,
        maxInAnySliding60s: b?.maxInAnySliding60s ?? 0,
        maxPerHourWindow: b?.maxPerHourWindow ?? 0,
        limit429s: b?.limit429s ?? 0,
        injected429s: b?.injected429s ?? 0,
        violations: b?.retryAfterViolations.length ?? 0,
        requests: b?.requests ?? 0,
      },
      windows: { ...budgetBound(sandbox.requests(), limits.perMinute), ...budgetUsedUp },
      driver: { ops: driver.stats.ops, resent: driver.stats.resent, failed: driver.stats.failed.length },
      runnerLagMs: { p99: lag.percentile(99) / 1e6, max: lag.max / 1e6 },
      inFlightAt429: lateArrivals(sandbox.requests(), RETRY_AFTER_S * 1000, GRACE_MS),
      durations: { streamMs, drainMs, totalMs: Date.now() - t0 },
      logDir,
    };
  } finally {
    for (const c of cleanups.reverse()) await c().catch((err) => say(`cleanup: ${(err as Error).message}`));
    process.off("exit", killAll);
  }
}

/**
 * SIGKILLs an ERP process, preferably while it holds claimed outbox jobs (mid-send), then
 * starts it again. Without `only`, the process holding the most jobs is the victim.
 */
async function killAndRestart(
  db: Knex,
  hosts: HostProcess[],
  restartAfterMs: number,
  streamStart: number,
  kills: KillRecord[],
  say: (m: string) => void,
  only?: string,
): Promise<void> {
  const candidates = hosts.filter((h) => h.alive && (!only || h.name === only));
  // Worker ids are host:pid:random (plugin/index.ts); claims are "<workerId>#<n>". Wait (a
  // little) for a moment when a process is mid-send: that is the kill that can lose work.
  let held = new Map<number, number>();
  for (const until = Date.now() + 5000; Date.now() < until; await sleep(25)) {
    held = new Map();
    for (const r of (await db("zenflow_outbox").where({ status: "running" }).select("locked_by")) as { locked_by: string }[]) {
      const pid = Number(String(r.locked_by).split(":")[1]);
      held.set(pid, (held.get(pid) ?? 0) + 1);
    }
    if ([...held.keys()].some((pid) => candidates.some((h) => h.pid === pid))) break;
  }
  const victim = candidates.sort((a, b) => (held.get(b.pid!) ?? 0) - (held.get(a.pid!) ?? 0))[0]!;
  const heldJobs = held.get(victim.pid!) ?? 0;
  const atMs = Date.now() - streamStart;
  say(`SIGKILL ${victim.name} (pid ${victim.pid}, holding ${heldJobs} outbox jobs)`);
  await victim.kill();
  await sleep(restartAfterMs);
  const t = Date.now();
  await victim.start();
  say(`${victim.name} restarted (pid ${victim.pid}) in ${Date.now() - t} ms`);
  kills.push({ process: victim.name, atMs, heldJobs, restartedAfterMs: Date.now() - streamStart - atMs });
}

function ordersPerCreate(sandbox: Sandbox): Record<string, number> {
  const creates = sandbox
    .requests()
    .filter((r) => r.method === "POST" && r.path.endsWith("/orders") && r.status !== null && r.status < 300);
  const orders = creates.reduce((n, r) => n + ((r.body as { orders?: unknown[] } | undefined)?.orders?.length ?? 1), 0);
  return { createRequests: creates.length, ordersInCreates: orders };
}

/**
 * How much of the run the budget was the bottleneck: per minute window, the time from the
 * request that used the window's last token to the window's end (when nothing could be sent).
 */
/**
 * The plugins' side of "the budget was the bottleneck": how long their shared count said the
 * current minute was used up, sampled from zenflow_budget every 250 ms.
 */
function sampleBudget(db: Knex, perMinute: number): { stop(): { sampledMs: number; usedUpMs: number } } {
  const EVERY = 250;
  let samples = 0;
  let usedUp = 0;
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    void db("zenflow_budget")
      .first()
      .then((row: Record<string, unknown> | undefined) => {
        const now = Date.now();
        samples++;
        const minute = Math.floor(now / 60_000) * 60_000;
        if (row && Number(row.minute_start) === minute && Number(row.minute_used) >= perMinute) usedUp++;
      })
      .catch(() => undefined)
      .finally(() => (busy = false));
  }, EVERY);
  return {
    stop() {
      clearInterval(timer);
      return { sampledMs: samples * EVERY, usedUpMs: usedUp * EVERY };
    },
  };
}

function budgetBound(log: { at: number; key: string | null }[], limit: number): Omit<ChaosResult["windows"], "sampledMs" | "usedUpMs"> {
  const byWindow = new Map<number, number[]>();
  for (const r of log) {
    if (!r.key) continue;
    const w = Math.floor(r.at / 60_000);
    byWindow.set(w, [...(byWindow.get(w) ?? []), r.at]);
  }
  let atLimit = 0;
  let exhaustedMs = 0;
  const end = log.at(-1)?.at ?? 0;
  for (const [w, ats] of byWindow) {
    if (ats.length < limit) continue;
    atLimit++;
    exhaustedMs += Math.max(0, Math.min((w + 1) * 60_000, end) - ats.sort((a, b) => a - b)[limit - 1]!);
  }
  return { total: byWindow.size, atLimit, exhaustedMs, spanMs: log.length ? end - log[0]!.at : 0 };
}

/** Arrivals inside the Retry-After window of an injected 429 (those within the grace were in flight). */
function lateArrivals(log: RequestLogEntry[], retryAfterMs: number, graceMs: number): ChaosResult["inFlightAt429"] {
  let count = 0;
  let maxMs = 0;
  let blockStart = -Infinity;
  for (const r of [...log].sort((a, b) => a.at - b.at)) {
    if (r.at < blockStart + retryAfterMs && r.at > blockStart) {
      count++;
      maxMs = Math.max(maxMs, r.at - blockStart);
    } else if (r.fault === "429") blockStart = r.at;
  }
  return { count, maxMs, graceMs };
}

function countBy<T>(xs: T[], key: (x: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[key(x)] = (out[key(x)] ?? 0) + 1;
  return out;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
