// Issue #4 benchmark: webhook ingest. Deliveries persisted per second and latency at 200
// concurrent, for the plugin's endpoint (signature check, envelope validation, INSERT into
// zenflow_inbox) against a bare express handler (raw body, 200) on the same machine, as a
// ratio. Each run sends unique signed deliveries for a fixed time (closed loop, 200 in flight).
// The load comes from another process: wrk (Debian package `wrk`) when installed, because it
// takes far less of this two-core machine than a Node client would, else bench/load-client.ts.
// Two latencies:
//   client   — what the sender sees, including waiting in line behind 199 other requests;
//   endpoint — time inside the ERP process, from the plugin's duration histogram (bucket bound).
import { execFile, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import express from "express";
import { sign } from "../plugin/webhooks/signature";
import { testDbKinds, type TestDbKind } from "../test/support/db";
import { startStack } from "../test/support/stack";
import { webhookClient } from "../test/support/webhooks";
import { bucketPercentile, endpointBuckets } from "./webhook-histogram";
import { printTable, summary, writeResult } from "./support";

const DURATIONS = (process.env.BENCH_WEBHOOK_SECONDS ?? "5,15").split(",").map(Number);
const CONCURRENCY = Number(process.env.BENCH_WEBHOOK_CONCURRENCY ?? 200);
// More unique deliveries than any run can send, so that none is a repeat.
const PER_SECOND_CEILING = 6000;
const BURST = 1000;
const HAS_WRK = process.env.BENCH_WEBHOOK_CLIENT !== "node" && spawnSync("wrk", ["--version"]).error === undefined;
const CLIENT = HAS_WRK ? "wrk" : "node";

type Item = { body: string; signature: string };
type LoadResult = { wallMs: number; sent: number; p50Ms: number; p99Ms: number; failed: number };

function writeItems(items: Item[]): string {
  const file = join(mkdtempSync(join(tmpdir(), "zf-bench-")), "deliveries.tsv");
  writeFileSync(file, items.map((i) => `${i.signature}\t${i.body}\n`).join(""));
  return file;
}

/** Runs the load in another process; asynchronously, since this process serves the requests. */
async function load(url: string, items: Item[], seconds: number, client = CLIENT): Promise<LoadResult> {
  const run = promisify(execFile);
  if (client === "wrk") {
    const file = writeItems(items);
    const args = [
      "-t1",
      `-c${CONCURRENCY}`,
      `-d${seconds}s`,
      "--timeout",
      "10s",
      "-s",
      join(__dirname, "wrk-deliveries.lua"),
      url,
      "--",
      file,
    ];
    const { stdout } = await run("wrk", args, { maxBuffer: 16 * 1024 * 1024 });
    const line = stdout.split("\n").find((l) => l.startsWith('{"durationUs"'));
    if (!line) throw new Error(`wrk printed no result:\n${stdout}`);
    const r = JSON.parse(line) as { durationUs: number; requests: number; p50Us: number; p99Us: number; non2xx: number; errors: number };
    return { wallMs: r.durationUs / 1000, sent: r.requests, p50Ms: r.p50Us / 1000, p99Ms: r.p99Us / 1000, failed: r.non2xx + r.errors };
  }
  const file = join(mkdtempSync(join(tmpdir(), "zf-bench-")), "bodies.json");
  writeFileSync(file, JSON.stringify(items.map((i) => ({ body: i.body, headers: { "X-ZenFlow-Signature": i.signature } }))));
  const { stdout } = await run(
    process.execPath,
    ["--import", "tsx", join(__dirname, "load-client.ts"), url, file, String(CONCURRENCY), String(seconds)],
    {
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  const r = JSON.parse(stdout) as { wallMs: number; latencies: number[]; statuses: Record<string, number> };
  const lat = summary(r.latencies);
  const failed = Object.entries(r.statuses).reduce((n, [code, count]) => n + (code.startsWith("2") ? 0 : count), 0);
  return { wallMs: r.wallMs, sent: r.latencies.length, p50Ms: lat.p50, p99Ms: lat.p99, failed };
}

async function baseline(items: Item[], seconds: number): Promise<LoadResult> {
  const app = express();
  app.post("/hook", express.raw({ type: () => true, limit: "1mb" }), (_req, res) => {
    res.status(200).json({ received: true });
  });
  const server = app.listen(0, "127.0.0.1");
  await new Promise((r) => server.once("listening", r));
  const port = (server.address() as { port: number }).port;
  try {
    return await load(`http://127.0.0.1:${port}/hook`, items, seconds);
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

async function run(kind: TestDbKind, seconds: number) {
  const stack = await startStack(kind, { plugin: { autoStart: false } });
  try {
    const hook = await webhookClient(stack);
    const stamp = Date.now();
    const delivery = (prefix: string, i: number): Item => {
      const body = JSON.stringify({
        id: `${prefix}_${stamp}_${i}`,
        event: "order/updated",
        created_at: new Date().toISOString(),
        data: {
          order_id: 100000 + (i % 500),
          order_tenant_id: `SO-BENCH-${i % 500}`,
          state_id: 2,
          state_name: "In Progress",
          updated_at: new Date().toISOString(),
        },
      });
      return { body, signature: sign(hook.secret, body) };
    };
    await load(
      hook.url,
      Array.from({ length: 2000 }, (_, i) => delivery("evt_warm", i)),
      1,
    );
    const items = Array.from({ length: PER_SECOND_CEILING * seconds }, (_, i) => delivery("evt_bench", i));
    // The case first: a burst of exactly 1,000 deliveries, each sent once (Node client,
    // which can stop at a count).
    const burstItems = Array.from({ length: BURST }, (_, i) => delivery("evt_burst", i));
    const b0 = await endpointBuckets(stack);
    const burstLoad = await load(hook.url, burstItems, 0, "node");
    const b1 = await endpointBuckets(stack);
    const burstStored = Number(
      (await stack.db.knex("zenflow_inbox").where("event_id", "like", `evt_burst_${stamp}_%`).count({ n: "*" }))[0]!.n,
    );
    const burst = {
      stored: burstStored,
      perSecond: (burstStored / burstLoad.wallMs) * 1000,
      endpointP50Ms: bucketPercentile(b0, b1, 50),
      endpointP99Ms: bucketPercentile(b0, b1, 99),
      clientP99Ms: burstLoad.p99Ms,
    };
    const base = await baseline(items, seconds);
    const h0 = await endpointBuckets(stack);
    const r = await load(hook.url, items, seconds);
    const h1 = await endpointBuckets(stack);
    const persisted = Number(
      (await stack.db.knex("zenflow_inbox").where("event_id", "like", `evt_bench_${stamp}_%`).count({ n: "*" }))[0]!.n,
    );
    // Throughput counts deliveries answered 2xx within the run. The inbox may hold a few more:
    // requests still in flight when the client stopped counting are stored all the same.
    const acknowledged = r.sent - r.failed;
    if (persisted < acknowledged) throw new Error(`${acknowledged - persisted} acknowledged deliveries are not in the inbox`);
    return {
      kind,
      seconds,
      sent: r.sent,
      persisted,
      failed: r.failed,
      perSecond: (acknowledged / r.wallMs) * 1000,
      client: r,
      endpointP50Ms: bucketPercentile(h0, h1, 50),
      endpointP99Ms: bucketPercentile(h0, h1, 99),
      baselinePerSecond: (base.sent / base.wallMs) * 1000,
      baseline: base,
      burst,
    };
  } finally {
    await stack.close();
  }
}

async function main() {
  const results = [];
  for (const kind of testDbKinds()) for (const seconds of DURATIONS) results.push(await run(kind, seconds));
  printTable(
    `webhook ingest: signed deliveries, ${CONCURRENCY} concurrent, load from ${CLIENT}`,
    results.map((r) => ({
      db: r.kind,
      seconds: r.seconds,
      "answered 2xx": r.sent - r.failed,
      "in inbox": r.persisted,
      "not 2xx": r.failed,
      "stored+acked/s": Math.round(r.perSecond),
      "endpoint p50 ≤ ms": r.endpointP50Ms,
      "endpoint p99 ≤ ms": r.endpointP99Ms,
      "client p50 ms": r.client.p50Ms,
      "client p99 ms": r.client.p99Ms,
      "bare express/s": Math.round(r.baselinePerSecond),
      "bare client p99 ms": r.baseline.p99Ms,
      "ratio (plugin/bare)": r.perSecond / r.baselinePerSecond,
    })),
  );
  printTable(
    `webhook ingest: a burst of ${BURST} signed deliveries, ${CONCURRENCY} concurrent (once per database and run)`,
    results
      .filter((r) => r.seconds === DURATIONS[0])
      .map((r) => ({
        db: r.kind,
        "in inbox": r.burst.stored,
        "stored/s": Math.round(r.burst.perSecond),
        "endpoint p50 ≤ ms": r.burst.endpointP50Ms,
        "endpoint p99 ≤ ms": r.burst.endpointP99Ms,
        "client p99 ms": r.burst.clientP99Ms,
      })),
  );
  console.log(`\nwritten ${writeResult("webhook-ingest", { durations: DURATIONS, concurrency: CONCURRENCY, client: CLIENT, results })}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
