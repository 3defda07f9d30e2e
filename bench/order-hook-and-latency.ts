// Issue #2 benchmark: (1) the time the order.created hook adds to the ERP's request,
// against a plain single-row insert into the same database (ratio); (2) end-to-end
// latency from the ERP event to the order existing in ZenFlow (sandbox over HTTP), with
// a budget large enough not to be the bottleneck.
import { performance } from "node:perf_hooks";
import type { Knex } from "knex";
import { newOrder } from "../test/support/builders";
import { testDbKinds, type TestDbKind } from "../test/support/db";
import { startStack } from "../test/support/stack";
import { orderJob } from "../plugin/jobs/order-job";
import { printTable, summary, writeResult } from "./support";

const HOOK_SAMPLES = Number(process.env.BENCH_HOOK_SAMPLES ?? 2000);
const E2E_SAMPLES = Number(process.env.BENCH_E2E_SAMPLES ?? 200);

/** The baseline: a plain single-row insert of an outbox-sized payload into a plain table. */
async function createBaseline(db: Knex): Promise<void> {
  await db.schema.dropTableIfExists("bench_baseline");
  await db.schema.createTable("bench_baseline", (t) => {
    t.bigIncrements("id");
    t.text("payload", "mediumtext");
  });
}

async function run(kind: TestDbKind) {
  const stack = await startStack(kind, {
    plugin: { autoStart: false, boundaryGuardMs: 0 },
    sandbox: { limits: { perMinute: 1_000_000, perHour: 1_000_000, perDay: 1_000_000 } },
    config: { rateLimitPerMinute: 100000, rateLimitPerHour: 1000000, rateLimitPerDay: 10000000 },
  });
  try {
    const host = stack.main.host;
    // Hook: the handler time as the host measures it, with the worker not running.
    const orders = [];
    for (let i = 0; i < 50; i++) orders.push(await host.erp.createOrder(newOrder(900_000 + i))); // warm-up
    // Hook and baseline samples alternate, so both see the same checkpoints, GC and load.
    await createBaseline(stack.db.knex);
    const payload = JSON.stringify({ orderId: "ord_000123", cancel: { reason: "x" } });
    const hookSamples: number[] = [];
    const base: number[] = [];
    const plugin = stack.main.plugin.runtime()!;
    for (let i = 0; i < HOOK_SAMPLES; i++) {
      const id = `bench_${i}`;
      let t0 = performance.now();
      await plugin.parts.recorder.record(
        { eventId: `bench-evt-${i}`, occurredAt: new Date().toISOString() },
        orderJob({ id, number: `SO-B-${i}` }),
      );
      hookSamples.push(performance.now() - t0);
      t0 = performance.now();
      await stack.db.knex("bench_baseline").insert({ payload });
      base.push(performance.now() - t0);
    }
    const hook = summary(hookSamples);
    const baseline = summary(base);

    // End to end: start the worker, create orders one by one, time until ZenFlow has each.
    await stack.db.knex("zenflow_outbox").delete();
    stack.main.plugin.runtime()!.engine!.worker.start();
    await new Promise((r) => setTimeout(r, 200));
    const e2e: number[] = [];
    for (let i = 0; i < E2E_SAMPLES; i++) {
      const input = newOrder(200_000 + i);
      const t0 = performance.now();
      await host.erp.createOrder(input);
      while (!stack.sandbox.order(input.number!)) await new Promise((r) => setImmediate(r));
      e2e.push(performance.now() - t0);
    }
    const latency = summary(e2e);
    return { kind, hook, baseline, ratioP50: hook.p50 / baseline.p50, ratioP99: hook.p99 / baseline.p99, latency };
  } finally {
    await stack.close();
  }
}

async function main() {
  const results = [];
  for (const kind of testDbKinds()) results.push(await run(kind));
  printTable(
    "order.created hook vs plain single-row insert (ms)",
    results.map((r) => ({
      db: r.kind,
      "hook p50": r.hook.p50,
      "hook p99": r.hook.p99,
      "insert p50": r.baseline.p50,
      "insert p99": r.baseline.p99,
      "ratio p50": r.ratioP50,
      "ratio p99": r.ratioP99,
    })),
  );
  printTable(
    "end-to-end: ERP event → order in ZenFlow sandbox (ms, batch window 5 ms)",
    results.map((r) => ({ db: r.kind, n: r.latency.n, p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99 })),
  );
  console.log(`\nwritten ${writeResult("order-hook-and-latency", { results })}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
