// Issue #6 benchmark: how much of the rate budget the plugin actually uses while it has a
// backlog, with one ERP process and with three sharing the budget. Requests granted / requests
// allowed over N saturated minute windows (target ≥ 95%), and the sandbox's verdict on the
// same traffic (zero 429s, never above the limit).
//
// Time runs 60× faster for everyone (test/support/fast-clock.ts scaledClock): a minute window
// is one real second, so ten windows take ten seconds. Requests still take real time, so the
// boundary guard is scaled with them: 3,000 scaled ms = 50 real ms (production: 250 ms).
import type { RequestLogEntry } from "../dev/sandbox";
import { MINUTE, windowStart } from "../plugin/budget/windows";
import { newOrder } from "../test/support/builders";
import { testDbKinds, type TestDbKind } from "../test/support/db";
import { scaledClock } from "../test/support/fast-clock";
import { startStack } from "../test/support/stack";
import { printTable, writeResult } from "./support";

const LIMIT = Number(process.env.BENCH_UTIL_LIMIT ?? 60);
const WINDOWS = Number(process.env.BENCH_UTIL_WINDOWS ?? 10);

async function run(kind: TestDbKind, processes: number) {
  const clock = scaledClock(60);
  const stack = await startStack(kind, {
    processes,
    sandbox: { now: clock.now, limits: { perMinute: LIMIT, perHour: 1_000_000, perDay: 10_000_000 } },
    // Production tuning except the clock: a real worker loop in every process.
    plugin: { clock, autoStart: false, boundaryGuardMs: 3000, leaseMs: 3_600_000, pollMs: 1000 },
    config: { orderBatchSize: 1, rateLimitPerMinute: LIMIT, rateLimitPerHour: 1_000_000, rateLimitPerDay: 10_000_000 },
  });
  try {
    // A backlog larger than the windows measured (plus the ones that pass while it is created).
    const backlog = LIMIT * (WINDOWS + 6);
    for (let i = 0; i < backlog; i++) await stack.procs[i % processes]!.host.erp.createOrder(newOrder(500_000 + i));
    for (const p of stack.procs) p.plugin.runtime()!.engine!.worker.start();
    // Measure whole windows, starting with the second one after the workers started.
    const from = windowStart(clock.now(), MINUTE) + 2 * MINUTE;
    const to = from + WINDOWS * MINUTE;
    await clock.sleep(to - clock.now() + 500);
    const reqs = stack.sandbox.requests().filter((r) => r.at >= from && r.at < to);
    const perWindow = new Map<number, RequestLogEntry[]>();
    for (const r of reqs) perWindow.set(windowStart(r.at, MINUTE), [...(perWindow.get(windowStart(r.at, MINUTE)) ?? []), r]);
    const granted = reqs.filter((r) => r.status !== 429).length;
    const counts = [...perWindow.values()].map((w) => w.length);
    const b = Object.values(stack.sandbox.budgetReport())[0]!;
    const left = await stack.db.knex("zenflow_outbox").whereIn("status", ["pending", "running"]).count({ n: "*" });
    return {
      kind,
      processes,
      windows: WINDOWS,
      limit: LIMIT,
      allowed: LIMIT * WINDOWS,
      granted,
      utilization: granted / (LIMIT * WINDOWS),
      minWindow: Math.min(...counts, counts.length < WINDOWS ? 0 : Infinity),
      maxWindow: Math.max(0, ...counts),
      limit429s: b.limit429s,
      violations: b.retryAfterViolations.length,
      maxPerMinuteWindow: b.maxPerMinuteWindow,
      backlogLeft: Number(left[0]!.n),
    };
  } finally {
    await stack.close();
  }
}

async function main() {
  const results = [];
  for (const kind of testDbKinds()) for (const n of [1, 3]) results.push(await run(kind, n));
  printTable(
    `rate-budget utilization with a backlog: ${WINDOWS} saturated minute windows at ${LIMIT}/min (clock ×60)`,
    results.map((r) => ({
      db: r.kind,
      processes: r.processes,
      "granted / allowed": `${r.granted} / ${r.allowed}`,
      utilization: `${(r.utilization * 100).toFixed(1)}%`,
      "min / max per window": `${r.minWindow} / ${r.maxWindow}`,
      "max in any window (sandbox)": r.maxPerMinuteWindow,
      "429s": r.limit429s,
      "Retry-After violations": r.violations,
    })),
  );
  const bad = results.filter((r) => r.backlogLeft === 0);
  if (bad.length) console.log("\nnote: the backlog ran out in some runs; their utilization is understated");
  console.log(`\nwritten ${writeResult("budget-utilization", { results })}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
