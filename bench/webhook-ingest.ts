// Issue #4 benchmark: webhook ingest. Deliveries persisted per second and latency at 200
// concurrent, for the plugin's endpoint (signature check, envelope validation, INSERT into
// zenflow_inbox) against a bare express handler (raw body, 200) on the same machine, as a
// ratio. The load comes from a separate process (bench/load-client.ts). Two latencies:
//   client   — what the sender sees, including waiting in line behind 199 other requests;
//   endpoint — time inside the ERP process, from the plugin's duration histogram (bucket bound).
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import express from "express";
import { sign } from "../plugin/webhooks/signature";
import { testDbKinds, type TestDbKind } from "../test/support/db";
import { startStack, type Stack } from "../test/support/stack";
import { webhookClient } from "../test/support/webhooks";
import { printTable, summary, writeResult } from "./support";

const SIZES = (process.env.BENCH_WEBHOOKS ?? "1000,5000").split(",").map(Number);
const CONCURRENCY = Number(process.env.BENCH_WEBHOOK_CONCURRENCY ?? 200);

type Item = { body: string; headers: Record<string, string> };

/** Runs the load client as a child process; asynchronously, since this process serves the requests. */
async function load(url: string, items: Item[]) {
  const file = join(mkdtempSync(join(tmpdir(), "zf-bench-")), "bodies.json");
  writeFileSync(file, JSON.stringify(items));
  const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", join(__dirname, "load-client.ts"), url, file, String(CONCURRENCY)], {
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(stdout) as { wallMs: number; latencies: number[]; statuses: Record<string, number> };
}

async function baseline(items: Item[]) {
  const app = express();
  app.post("/hook", express.raw({ type: () => true, limit: "1mb" }), (_req, res) => {
    res.status(200).json({ received: true });
  });
  const server = app.listen(0, "127.0.0.1");
  await new Promise((r) => server.once("listening", r));
  const port = (server.address() as { port: number }).port;
  try {
    return await load(`http://127.0.0.1:${port}/hook`, items);
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

type Buckets = { le: number; count: number }[];

/** Cumulative bucket counts of the endpoint's own duration histogram. */
async function endpointBuckets(stack: Stack): Promise<Buckets> {
  const h = await stack.main.plugin.runtime()!.shared.metrics.webhookLatency.get();
  return h.values
    .filter((v) => v.metricName === "zenflow_webhook_duration_seconds_bucket")
    .map((v) => ({ le: Number(v.labels.le), count: v.value }));
}

/** Upper bound (ms) of the bucket that holds percentile p of the requests between two snapshots. */
function bucketPercentile(before: Buckets, after: Buckets, p: number): number {
  const diff = after.map((b, i) => ({ le: b.le, count: b.count - (before[i]?.count ?? 0) }));
  const total = diff.at(-1)?.count ?? 0;
  const target = Math.ceil((p / 100) * total);
  return (diff.find((b) => b.count >= target)?.le ?? Infinity) * 1000;
}

async function run(kind: TestDbKind, n: number) {
  const stack = await startStack(kind, { plugin: { autoStart: false } });
  try {
    const hook = await webhookClient(stack);
    const stamp = Date.now();
    const delivery = (prefix: string, i: number): Item => {
      const body = JSON.stringify({
        id: `${prefix}_${stamp}_${i}`,
        event: "order/updated",
        created_at: new Date().toISOString(),
        data: { order_id: 100000 + (i % 500), order_tenant_id: `SO-BENCH-${i % 500}`, state_id: 2, state_name: "In Progress", updated_at: new Date().toISOString() },
      });
      return { body, headers: { "X-ZenFlow-Signature": sign(hook.secret, body) } };
    };
    await load(hook.url, Array.from({ length: 200 }, (_, i) => delivery("evt_warm", i)));
    const items = Array.from({ length: n }, (_, i) => delivery("evt_bench", i));
    const base = await baseline(items);
    const h0 = await endpointBuckets(stack);
    const r = await load(hook.url, items);
    const h1 = await endpointBuckets(stack);
    const persisted = Number((await stack.db.knex("zenflow_inbox").where("event_id", "like", `evt_bench_${stamp}_%`).count({ n: "*" }))[0]!.n);
    return {
      kind,
      n,
      persisted,
      statuses: r.statuses,
      perSecond: (persisted / r.wallMs) * 1000,
      latency: summary(r.latencies),
      endpointP50Ms: bucketPercentile(h0, h1, 50),
      endpointP99Ms: bucketPercentile(h0, h1, 99),
      baselinePerSecond: (n / base.wallMs) * 1000,
      baselineLatency: summary(base.latencies),
    };
  } finally {
    await stack.close();
  }
}

async function main() {
  const results = [];
  for (const kind of testDbKinds()) for (const n of SIZES) results.push(await run(kind, n));
  printTable(
    `webhook ingest: signed deliveries, ${CONCURRENCY} concurrent`,
    results.map((r) => ({
      db: r.kind,
      deliveries: r.n,
      persisted: r.persisted,
      "persisted/s": Math.round(r.perSecond),
      "endpoint p50 ≤ ms": r.endpointP50Ms,
      "endpoint p99 ≤ ms": r.endpointP99Ms,
      "client p50 ms": r.latency.p50,
      "client p99 ms": r.latency.p99,
      "bare express/s": Math.round(r.baselinePerSecond),
      "bare client p99 ms": r.baselineLatency.p99,
      "ratio (plugin/bare)": r.perSecond / r.baselinePerSecond,
    })),
  );
  console.log(`\nwritten ${writeResult("webhook-ingest", { sizes: SIZES, concurrency: CONCURRENCY, results })}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
