// Issue #9 benchmark: a burst of 200 concurrent signed webhook deliveries from another
// process, against the plugin's endpoint and, in the same run, against a minimal receiver
// (read the body, verify the HMAC, answer 200) on the same machine. Targets: the endpoint's
// p99 as the sender sees it within 100 ms of the minimal receiver's, the server-side p99
// (the endpoint's own histogram: read, verify, validate, group-committed INSERT) under 50 ms,
// and every acknowledged delivery in the inbox.
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import express from "express";
import { sign, verifySignature } from "../plugin/webhooks/signature";
import { testDbKinds, type TestDbKind } from "../test/support/db";
import { startStack } from "../test/support/stack";
import { webhookClient } from "../test/support/webhooks";
import { machine, printTable, summary, writeResult } from "./support";
import { bucketPercentile, endpointBuckets } from "./webhook-histogram";

const BURST = Number(process.env.BENCH_BURST_SIZE ?? 200);
const BURSTS = Number(process.env.BENCH_BURSTS ?? 5);

type Item = { body: string; headers: Record<string, string> };

/** Sends each item once, all at the same time, from a separate Node process; the client's latencies. */
async function burst(url: string, items: Item[]): Promise<{ latencies: number[]; statuses: Record<string, number> }> {
  const file = join(mkdtempSync(join(tmpdir(), "zf-burst-")), "bodies.json");
  writeFileSync(file, JSON.stringify(items));
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["--import", "tsx", join(__dirname, "load-client.ts"), url, file, String(items.length), "0"],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  return JSON.parse(stdout) as { latencies: number[]; statuses: Record<string, number> };
}

async function run(kind: TestDbKind) {
  const stack = await startStack(kind, { plugin: { autoStart: false } });
  const minimal = express();
  let secret = "";
  // Its server-side time too, measured as the plugin's histogram measures the endpoint: from
  // the request's headers to the response's end.
  let minimalServer: number[] = [];
  minimal.use((_req, res, next) => {
    const t0 = process.hrtime.bigint();
    res.once("finish", () => minimalServer.push(Number(process.hrtime.bigint() - t0) / 1e6));
    next();
  });
  minimal.post("/hook", express.raw({ type: () => true, limit: "1mb" }), (req, res) => {
    const ok = verifySignature(req.body as Buffer, req.get("X-ZenFlow-Signature"), [secret]);
    res.status(ok ? 200 : 401).json({ received: ok });
  });
  // A minimal receiver that also makes each delivery durable before answering: one INSERT per
  // delivery (autocommit) into a scratch table of the same database. What any durable
  // receiver pays on this machine: its server-side time is the floor for the plugin's.
  await stack.db.knex.schema.dropTableIfExists("bench_durable_inbox");
  await stack.db.knex.schema.createTable("bench_durable_inbox", (t) => {
    t.string("event_id", 191).primary();
    t.text("payload");
  });
  let durableServer: number[] = [];
  minimal.post("/durable", express.raw({ type: () => true, limit: "1mb" }), async (req, res) => {
    const t0 = process.hrtime.bigint();
    res.once("finish", () => durableServer.push(Number(process.hrtime.bigint() - t0) / 1e6));
    const body = req.body as Buffer;
    if (!verifySignature(body, req.get("X-ZenFlow-Signature"), [secret])) return void res.status(401).json({ received: false });
    const id = String((JSON.parse(body.toString("utf8")) as { id: string }).id);
    await stack.db.knex("bench_durable_inbox").insert({ event_id: id, payload: body.toString("utf8") });
    res.status(200).json({ received: true });
  });
  const server = minimal.listen(0, "127.0.0.1");
  await new Promise((r) => server.once("listening", r));
  const minimalUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
  const durableUrl = minimalUrl.replace(/\/hook$/, "/durable");
  try {
    const hook = await webhookClient(stack);
    secret = hook.secret;
    const stamp = Date.now();
    const items = (prefix: string): Item[] =>
      Array.from({ length: BURST }, (_, i) => {
        const body = JSON.stringify({
          id: `${prefix}_${stamp}_${i}`,
          event: "order/updated",
          created_at: new Date().toISOString(),
          data: {
            order_id: 100000 + i,
            order_tenant_id: `SO-BURST-${i}`,
            state_id: 2,
            state_name: "In Progress",
            updated_at: new Date().toISOString(),
          },
        });
        return { body, headers: { "X-ZenFlow-Signature": sign(secret, body) } };
      });
    await burst(hook.url, items("evt_warm"));
    await burst(minimalUrl, items("evt_warm_min"));
    await burst(durableUrl, items("evt_warm_dur"));
    const plugin: number[] = [];
    const bare: number[] = [];
    let failed = 0;
    minimalServer = [];
    durableServer = [];
    const durable: number[] = [];
    const b0 = await endpointBuckets(stack);
    for (let n = 0; n < BURSTS; n++) {
      // Alternate, so both see the same machine.
      const m = await burst(minimalUrl, items(`evt_min_${n}`));
      bare.push(...m.latencies);
      const d = await burst(durableUrl, items(`evt_dur_${n}`));
      durable.push(...d.latencies);
      const r = await burst(hook.url, items(`evt_b${n}`));
      plugin.push(...r.latencies);
      failed += Object.entries(r.statuses).reduce((k, [code, c]) => k + (code.startsWith("2") ? 0 : c), 0);
    }
    const b1 = await endpointBuckets(stack);
    const stored = Number((await stack.db.knex("zenflow_inbox").where("event_id", "like", `evt_b%_${stamp}_%`).count({ n: "*" }))[0]!.n);
    const acknowledged = BURST * BURSTS - failed;
    if (stored < acknowledged) throw new Error(`${acknowledged - stored} acknowledged deliveries are not in the inbox`);
    return {
      kind,
      plugin: summary(plugin),
      minimal: summary(bare),
      minimalServer: summary(minimalServer),
      durable: summary(durable),
      durableServer: summary(durableServer),
      serverP50Ms: bucketPercentile(b0, b1, 50),
      serverP99Ms: bucketPercentile(b0, b1, 99),
      acknowledged,
      stored,
      failed,
    };
  } finally {
    server.closeAllConnections();
    server.close();
    await stack.db.knex.schema.dropTableIfExists("bench_durable_inbox").catch(() => undefined);
    await stack.close();
  }
}

async function main() {
  const results = [];
  for (const kind of testDbKinds()) results.push(await run(kind));
  printTable(
    `webhook bursts: ${BURSTS} × ${BURST} concurrent signed deliveries (ms; targets: endpoint p99 ≤ minimal p99 + 100, server p99 < 50)`,
    results.map((r) => ({
      db: r.kind,
      "endpoint p50": r.plugin.p50,
      "endpoint p99": r.plugin.p99,
      "minimal p50": r.minimal.p50,
      "minimal p99": r.minimal.p99,
      "p99 difference": r.plugin.p99 - r.minimal.p99,
      "server p50 ≤": r.serverP50Ms,
      "server p99 ≤": r.serverP99Ms,
      "minimal server p99": r.minimalServer.p99,
      "durable minimal p99": r.durable.p99,
      "durable minimal server p50 / p99": `${r.durableServer.p50} / ${r.durableServer.p99}`,
      "acked / in inbox": `${r.acknowledged} / ${r.stored}`,
    })),
  );
  console.log(`\nwritten ${writeResult("webhook-burst", { machine: machine(), burst: BURST, bursts: BURSTS, results })}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
