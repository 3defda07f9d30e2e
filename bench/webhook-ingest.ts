// Issue #4 benchmark: webhook ingest. Deliveries persisted per second and latency p50/p99
// at 200 concurrent, for the plugin's endpoint (signature check, envelope validation, one
// INSERT into zenflow_inbox) against a bare express handler (raw body, 200) on the same
// machine, as a ratio. The load comes from a separate process (bench/load-client.ts).
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import express from "express";
import { sign } from "../plugin/webhooks/signature";
import { testDbKinds, type TestDbKind } from "../test/support/db";
import { startStack } from "../test/support/stack";
import { webhookClient } from "../test/support/webhooks";
import { printTable, summary, writeResult } from "./support";

const N = Number(process.env.BENCH_WEBHOOKS ?? 5000);
const CONCURRENCY = Number(process.env.BENCH_WEBHOOK_CONCURRENCY ?? 200);

/** Runs the load client as a child process; asynchronously, since this process serves the requests. */
async function load(url: string, items: { body: string; headers: Record<string, string> }[]) {
  const file = join(mkdtempSync(join(tmpdir(), "zf-bench-")), "bodies.json");
  writeFileSync(file, JSON.stringify(items));
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["--import", "tsx", join(__dirname, "load-client.ts"), url, file, String(CONCURRENCY)],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  return JSON.parse(stdout) as { wallMs: number; latencies: number[]; statuses: Record<string, number> };
}

async function baseline(items: { body: string; headers: Record<string, string> }[]) {
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

async function run(kind: TestDbKind) {
  const stack = await startStack(kind, { plugin: { autoStart: false } });
  try {
    const hook = await webhookClient(stack);
    const stamp = Date.now();
    const items = Array.from({ length: N }, (_, i) => {
      const body = JSON.stringify({
        id: `evt_bench_${stamp}_${i}`,
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
      return { body, headers: { "X-ZenFlow-Signature": sign(hook.secret, body) } };
    });
    await load(
      hook.url,
      items.slice(0, 200).map((x, i) => ({ ...x, body: x.body.replace(`evt_bench_${stamp}_`, `evt_warm_${stamp}_`) })),
    ); // warm-up
    const base = await baseline(items);
    const r = await load(hook.url, items);
    const persisted = Number(
      (await stack.db.knex("zenflow_inbox").where("event_id", "like", `evt_bench_${stamp}_%`).count({ n: "*" }))[0]!.n,
    );
    return {
      kind,
      persisted,
      statuses: r.statuses,
      perSecond: (persisted / r.wallMs) * 1000,
      latency: summary(r.latencies),
      baselinePerSecond: (N / base.wallMs) * 1000,
      baselineLatency: summary(base.latencies),
    };
  } finally {
    await stack.close();
  }
}

async function main() {
  const results = [];
  for (const kind of testDbKinds()) results.push(await run(kind));
  printTable(
    `webhook ingest: ${N} signed deliveries, ${CONCURRENCY} concurrent`,
    results.map((r) => ({
      db: r.kind,
      persisted: r.persisted,
      "persisted/s": Math.round(r.perSecond),
      "p50 ms": r.latency.p50,
      "p99 ms": r.latency.p99,
      "bare express/s": Math.round(r.baselinePerSecond),
      "bare p99 ms": r.baselineLatency.p99,
      "ratio (plugin/bare)": r.perSecond / r.baselinePerSecond,
    })),
  );
  console.log(`\nwritten ${writeResult("webhook-ingest", { n: N, concurrency: CONCURRENCY, results })}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
