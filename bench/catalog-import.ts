// Issue #3/#6 benchmark: the catalog import at 10,000 and 100,000 products. Requests against
// the minimum (one bulk request per 100 products), wall time, products per second, and the
// peak RSS the import adds over the process before it starts — the import streams one page
// at a time, so that figure should not grow with the catalog. SQLite, budget not limiting.
import { performance } from "node:perf_hooks";
import { readProgress, requestRun } from "../plugin/core/runs";
import { startStack } from "../test/support/stack";
import { benchProductRow, printTable, writeResult } from "./support";

const SIZES = (process.env.BENCH_CATALOG_SIZES ?? "10000,100000").split(",").map(Number);

async function run(n: number) {
  const stack = await startStack("sqlite", {
    sandbox: { limits: { perMinute: 10_000_000, perHour: 10_000_000, perDay: 10_000_000 } },
    config: { rateLimitPerMinute: 100_000, rateLimitPerHour: 1_000_000, rateLimitPerDay: 10_000_000 },
    plugin: { autoStart: false },
  });
  try {
    // Setup (not measured): the ERP's catalog written straight into its table.
    const now = new Date().toISOString();
    for (let i = 0; i < n; i += 500) {
      const rows = Array.from({ length: Math.min(500, n - i) }, (_, k) => benchProductRow(i + k, now));
      await stack.db.knex("erp_products").insert(rows);
    }
    global.gc?.();
    const state = stack.main.plugin.runtime()!.parts.state;
    const baseRss = process.memoryUsage().rss;
    let peak = baseRss;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 25);
    await requestRun(state, "import-catalog", "bench", Date.now());
    const t0 = performance.now();
    const outcome = await stack.main.plugin.runtime()!.engine!.scheduler.runTask("import-catalog");
    const wallMs = performance.now() - t0;
    clearInterval(sampler);
    const progress = (await readProgress(state, "import-catalog"))!;
    const requests = stack.sandbox.requests().filter((r) => r.path.endsWith("/products/bulk")).length;
    return {
      n,
      outcome,
      status: progress.status,
      inZenflow: stack.sandbox.products().length,
      requests,
      minimum: Math.ceil(n / 100),
      wallMs,
      perSecond: (n / wallMs) * 1000,
      peakRssAddedMiB: (peak - baseRss) / 2 ** 20,
    };
  } finally {
    await stack.close();
  }
}

async function main() {
  const results = [];
  for (const n of SIZES) results.push(await run(n));
  printTable(
    "catalog import (SQLite, sandbox over HTTP)",
    results.map((r) => ({
      products: r.n,
      "in ZenFlow": r.inZenflow,
      requests: r.requests,
      minimum: r.minimum,
      "wall s": r.wallMs / 1000,
      "products/s": Math.round(r.perSecond),
      "peak RSS added MiB": r.peakRssAddedMiB,
    })),
  );
  if (results.length > 1) {
    const [a, b] = [results[0]!, results[results.length - 1]!];
    console.log(
      `\nRSS added at ${b.n} vs ${a.n} products: ${(b.peakRssAddedMiB / Math.max(1, a.peakRssAddedMiB)).toFixed(2)}x for ${(b.n / a.n).toFixed(0)}x the catalog`,
    );
  }
  console.log(`\nwritten ${writeResult("catalog-import", { results })}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
