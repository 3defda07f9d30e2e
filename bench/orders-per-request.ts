// Issue #6 benchmark (orders from issue #2; budget-aware batching from #13 item 2): how many
// orders share one create request when the ERP bursts. N orders are created as fast as the
// ERP can, spread over 1 or 3 processes whose workers run as in production (batch wait
// 25 ms, 50 per request); the minimum is ceil(N / 50). With a budget that never limits, and
// with a tight one (10/min on a 60× clock) twice: partial batches never held (the behaviour
// before #13, the baseline of the same run) and held up to 60 scaled seconds (one real
// second: at the bench's arrival rates a few real seconds' worth of orders).
import { performance } from "node:perf_hooks";
import { newOrder } from "../test/support/builders";
import { testDbKinds, type TestDbKind } from "../test/support/db";
import { HOUR, windowStart } from "../plugin/budget/windows";
import { scaledClock } from "../test/support/fast-clock";
import { startStack } from "../test/support/stack";
import { printTable, writeResult } from "./support";

const N = Number(process.env.BENCH_BURST_ORDERS ?? 1000);
const BATCH = 50;

async function run(kind: TestDbKind, processes: number, tight: boolean, holdSeconds: number) {
  // Tight runs start at an hour (scaled): near an hour's end, tokens that would expire unused
  // rightly go on partial requests, which is not what this row measures.
  const clock = tight ? scaledClock(60, windowStart(Date.now(), HOUR) + HOUR + 1000) : undefined;
  const perMinute = tight ? 10 : 100_000;
  const perHour = tight ? 600 : 1_000_000;
  const stack = await startStack(kind, {
    processes,
    // Tight: 10 a minute and 600 an hour (a roomy hour would rightly let the last seconds of
    // each minute spend tokens that would expire unused on partial requests).
    sandbox: { ...(clock ? { now: clock.now } : {}), limits: { perMinute, perHour: perHour, perDay: 10_000_000 } },
    plugin: { ...(clock ? { clock, boundaryGuardMs: 3000, leaseMs: 3_600_000 } : {}), pollMs: 1000, autoStart: false },
    config: {
      orderBatchSize: BATCH,
      batchWindowMs: 25,
      batchHoldSeconds: holdSeconds,
      rateLimitPerMinute: perMinute,
      rateLimitPerHour: perHour,
      rateLimitPerDay: 10_000_000,
    },
  });
  try {
    for (const p of stack.procs) p.plugin.runtime()!.engine!.worker.start();
    const t0 = performance.now();
    const createdAt = new Map<string, number>();
    const now = clock?.now ?? Date.now;
    // The burst: every process creates its share at once, as concurrent ERP requests would.
    await Promise.all(
      stack.procs.map(async (p, k) => {
        for (let i = k; i < N; i += processes) {
          const o = newOrder(700_000 + i);
          createdAt.set(String(o.number), now());
          await p.host.erp.createOrder(o);
        }
      }),
    );
    const createdMs = performance.now() - t0;
    while (stack.sandbox.orders().length < N) await new Promise((r) => setTimeout(r, 10));
    const wallMs = performance.now() - t0;
    const creates = stack.sandbox
      .requests()
      .filter((r) => r.method === "POST" && r.path.endsWith("/orders") && r.status !== null && r.status < 300);
    const sizes = creates.map((r) => (r.body as { orders: unknown[] }).orders.length);
    // The longest an order waited for its request, on the plugins' clock (scaled time when tight).
    const longestWaitMs = Math.max(
      ...creates.flatMap((r) =>
        (r.body as { orders: { order_tenant_id: string }[] }).orders.map((o) => r.at - createdAt.get(o.order_tenant_id)!),
      ),
    );
    return {
      kind,
      processes,
      budget: tight ? `${perMinute}/min, ${perHour}/h (clock ×60)` : "not limiting",
      holdSeconds,
      partial: sizes.filter((n) => n < BATCH).length,
      longestWaitMs,
      orders: N,
      requests: creates.length,
      minimum: Math.ceil(N / BATCH),
      ordersPerRequest: N / creates.length,
      largest: Math.max(...sizes),
      createdMs,
      wallMs,
    };
  } finally {
    await stack.close();
  }
}

async function main() {
  const results = [];
  for (const kind of testDbKinds())
    for (const [tight, hold] of [
      [false, 5],
      [true, 0],
      [true, 60],
    ] as const)
      for (const n of [1, 3]) results.push(await run(kind, n, tight, hold));
  printTable(
    `orders per create request under a burst of ${N} orders (at most ${BATCH} per request)`,
    results.map((r) => ({
      db: r.kind,
      processes: r.processes,
      budget: r.budget,
      "hold (s)": r.holdSeconds || "never",
      requests: r.requests,
      minimum: r.minimum,
      "orders/request": r.ordersPerRequest,
      "requests / minimum": r.requests / r.minimum,
      "largest batch": r.largest,
      "partial requests": r.partial,
      "longest wait (s)": Math.round(r.longestWaitMs / 100) / 10,
      "burst (ms)": Math.round(r.createdMs),
      "all in ZenFlow (ms)": r.budget === "not limiting" ? Math.round(r.wallMs) : "-",
    })),
  );
  console.log(`\nwritten ${writeResult("orders-per-request", { results })}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
