// `npm run bench`: every benchmark, one after the other, each in its own process, printing its
// table and writing bench/results/<name>.json. Never part of `npm test`.
//   npm run bench -- token utilization    (only those whose file name contains a word)
// Benchmarks of features that are not in the plugin yet are skipped with a note.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { staticFeatures } from "../test/chaos/features";

interface Bench {
  file: string;
  what: string;
  /** Why it cannot run yet, or null. */
  missing?: () => string | null;
}

const BENCHES: Bench[] = [
  { file: "order-hook-and-latency.ts", what: "order.created hook overhead and end-to-end order latency" },
  { file: "orders-per-request.ts", what: "orders per create request under a burst" },
  { file: "requests-per-change.ts", what: "requests per delivered change, fault-free vs faulty; no-op PUTs" },
  { file: "budget-utilization.ts", what: "rate-budget utilization, 1 and 3 processes" },
  { file: "budget-token.ts", what: "cost of one shared-budget token" },
  {
    file: "catalog-import.ts",
    what: "catalog import (requests vs minimum, wall time, peak RSS)",
    missing: () => (!staticFeatures().products ? "the plugin does not sync products yet (manifest lists no product.* hook)" : null),
  },
  {
    file: "plugin-memory.ts",
    what: "the ERP process's own peak RSS (sandbox in another process): catalog import 10k/100k, 100k-order backlog",
    missing: () => (!staticFeatures().products ? "the plugin does not sync products yet (manifest lists no product.* hook)" : null),
  },
  { file: "webhook-ingest.ts", what: "webhook ingest throughput" },
  { file: "webhook-burst.ts", what: "webhook bursts of 200 against a minimal receiver; server-side p99" },
  { file: "host-under-faults.ts", what: "the ERP's hook and its own queries while ZenFlow fails, as ratios" },
];

const only = process.argv.slice(2);
let failed = 0;
for (const b of BENCHES.filter((x) => !only.length || only.some((o) => x.file.includes(o)))) {
  console.log(`\n# ${b.file} — ${b.what}`);
  const why = b.missing?.() ?? (existsSync(join(__dirname, b.file)) ? null : `bench/${b.file} does not exist yet`);
  if (why) {
    console.log(`skipped: ${why}`);
    continue;
  }
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ["--import", "tsx", join(__dirname, b.file)], { stdio: "inherit", env: process.env });
  console.log(`(${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  if (r.status !== 0) {
    console.error(`${b.file} failed (exit ${r.status})`);
    failed++;
  }
}
process.exit(failed ? 1 : 0);
