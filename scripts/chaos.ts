// `npm run chaos` (full size, documented in BENCHMARKS.md) and `npm run chaos:ci` (the small
// run `npm test` includes on MariaDB). Prints a summary table, writes it as JSON to
// bench/results/chaos-<size>.json, and exits 1 when any check failed.
//   --ci | --size=ci|full   --seed=N   --keep-db (leave the MariaDB schema for a post-mortem)
import { statSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { writeResult } from "../bench/support";
import { ROOT, runChaos } from "../test/chaos/scenario";
import { SIZES } from "../test/chaos/sizes";
import { printSummary } from "../test/chaos/summary";

function arg(name: string): string | undefined {
  const a = process.argv.find((x) => x === `--${name}` || x.startsWith(`--${name}=`));
  return a === undefined ? undefined : (a.split("=")[1] ?? "");
}

/** The ERP processes load dist/: warn when it is older than the sources it was built from. */
function warnIfDistStale(): void {
  const newest = (dir: string): number =>
    readdirSync(dir, { withFileTypes: true }).reduce((m, e) => {
      const p = join(dir, e.name);
      return Math.max(m, e.isDirectory() ? newest(p) : e.name.endsWith(".ts") ? statSync(p).mtimeMs : 0);
    }, 0);
  let built = 0;
  try {
    built = statSync(join(ROOT, "dist", "plugin", "entry.js")).mtimeMs;
  } catch {
    throw new Error("dist/plugin/entry.js is missing: run `npm run build` first (npm run chaos does).");
  }
  const src = Math.max(...["plugin", "hooks", "migrations"].map((d) => newest(join(ROOT, d))));
  if (src > built) console.warn("warning: dist/ is older than plugin/, hooks/ or migrations/; the run tests the last build.");
}

async function main(): Promise<void> {
  const sizeName = arg("ci") !== undefined ? "ci" : (arg("size") ?? "full");
  const size = SIZES[sizeName as keyof typeof SIZES];
  if (!size) throw new Error(`unknown size "${sizeName}" (ci or full)`);
  warnIfDistStale();
  const seed = arg("seed");
  const result = await runChaos(size, { seed: seed ? Number(seed) : undefined, keepDb: arg("keep-db") !== undefined });
  printSummary(result);
  console.log(`written ${writeResult(`chaos-${size.name}`, result)}`);
  process.exitCode = result.ok ? 0 : 1;
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
