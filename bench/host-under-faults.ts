// Issue #9 benchmark: does a misbehaving ZenFlow slow the ERP down? One ERP process (the
// reference host, knex pool of 10 on MariaDB, 1 on SQLite) takes a steady stream of orders
// while the plugin syncs them, first with a healthy sandbox, then with ZenFlow failing
// (5xx, 15 s hangs, resets, 429s). Measured in the same process, per phase:
//   - the order.created handler's duration, as the host times it (its event stats);
//   - a plain query of the host's own (the latest orders) issued every 10 ms meanwhile.
// Reported as ratios faults / no faults (targets: hook p99 ≤ 2×, host query p99 ≤ 1.5×).
import { performance } from "node:perf_hooks";
import { newOrder } from "../test/support/builders";
import { testDbKinds, type TestDbKind } from "../test/support/db";
import { startStack } from "../test/support/stack";
import { printTable, summary, writeResult, machine } from "./support";

const SECONDS = Number(process.env.BENCH_FAULT_SECONDS ?? 20);
const ORDERS_PER_SECOND = Number(process.env.BENCH_FAULT_RATE ?? 40);

interface Phase {
  hook: { n: number; p50: number; p99: number };
  hostQuery: ReturnType<typeof summary>;
  createOrder: ReturnType<typeof summary>;
  sent: number;
  orders: number;
}

async function phase(kind: TestDbKind, faults: boolean, offset: number): Promise<Phase> {
  const stack = await startStack(kind, {
    // The plugin's real loops: worker, inbox worker and scheduler, with production timings.
    plugin: { autoStart: true, pollMs: 1000, leaseMs: 15_000, backoff: { baseMs: 200, capMs: 5000 } },
    sandbox: { limits: { perMinute: 1_000_000, perHour: 1_000_000, perDay: 1_000_000 } },
    // A heavier ERP than the reference one: each ctx.erp read holds a connection for 5 ms.
    erpReadCostMs: Number(process.env.BENCH_ERP_READ_MS ?? 5),
    config: { rateLimitPerMinute: 6000, rateLimitPerHour: 100000, rateLimitPerDay: 1000000, requestTimeoutMs: 20_000, batchWindowMs: 25 },
  });
  try {
    const host = stack.main.host;
    const db = stack.db.knex;
    for (let i = 0; i < 20; i++) await host.erp.createOrder(newOrder(offset + 900_000 + i)); // warm-up
    if (faults) stack.sandbox.setFaults({ rate: 0.3, kinds: ["5xx", "hang", "reset", "429"], hangMs: 15_000, retryAfterSeconds: 1 });
    const hostQuery: number[] = [];
    const create: number[] = [];
    let stop = false;
    const prober = (async () => {
      while (!stop) {
        const t0 = performance.now();
        await db("erp_orders").select("id", "number", "status").orderBy("id", "desc").limit(10);
        hostQuery.push(performance.now() - t0);
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const before = host.eventStats().find((s) => s.name === "order.created")?.count ?? 0;
    const started = performance.now();
    let i = 0;
    const inflight: Promise<void>[] = [];
    while (performance.now() - started < SECONDS * 1000) {
      const due = Math.floor(((performance.now() - started) / 1000) * ORDERS_PER_SECOND);
      while (i < due) {
        const n = offset + i++;
        inflight.push(
          (async () => {
            const t0 = performance.now();
            await host.erp.createOrder(newOrder(n));
            create.push(performance.now() - t0);
          })(),
        );
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    await Promise.all(inflight);
    stop = true;
    await prober;
    const stat = host.eventStats().find((s) => s.name === "order.created")!;
    stack.sandbox.setFaults(null);
    return {
      hook: { n: stat.count - before, p50: stat.p50Ms, p99: stat.p99Ms },
      hostQuery: summary(hostQuery),
      createOrder: summary(create),
      sent: stack.sandbox.requests().length,
      orders: i,
    };
  } finally {
    await stack.close();
  }
}

async function main() {
  const rows = [];
  const results = [];
  for (const kind of testDbKinds()) {
    const calm = await phase(kind, false, 0);
    const stormy = await phase(kind, true, 100_000);
    results.push({ kind, calm, stormy });
    rows.push({
      db: kind,
      orders: `${calm.orders} / ${stormy.orders}`,
      "hook p99 calm": calm.hook.p99,
      "hook p99 faults": stormy.hook.p99,
      "hook ratio": stormy.hook.p99 / calm.hook.p99,
      "host query p99 calm": calm.hostQuery.p99,
      "host query p99 faults": stormy.hostQuery.p99,
      "host query ratio": stormy.hostQuery.p99 / calm.hostQuery.p99,
      "createOrder p99 calm": calm.createOrder.p99,
      "createOrder p99 faults": stormy.createOrder.p99,
    });
  }
  printTable(
    `the ERP while ZenFlow fails (${ORDERS_PER_SECOND} orders/s for ${SECONDS} s per phase; ms; targets: hook ≤ 2×, host query ≤ 1.5×)`,
    rows,
  );
  console.log(`\nwritten ${writeResult("host-under-faults", { machine: machine(), seconds: SECONDS, rate: ORDERS_PER_SECOND, results })}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
