// `npm run bench`: every benchmark, one after the other, each printing its table and
// writing bench/results/<name>.json. Never part of `npm test`.
import { spawnSync } from "node:child_process";
import { join } from "node:path";

const benches = ["order-hook-and-latency.ts"];
const only = process.argv.slice(2);
for (const file of benches.filter((b) => !only.length || only.some((o) => b.includes(o)))) {
  console.log(`\n# ${file}`);
  const r = spawnSync(process.execPath, ["--import", "tsx", join(__dirname, file)], { stdio: "inherit", env: process.env });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
