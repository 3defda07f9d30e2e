// The test command. Runs every test file against the databases in ZENFLOW_TEST_DBS, with
// the process in America/Argentina/Buenos_Aires (UTC-3, where midnight dates shift if code
// goes through local time), then the date-sensitive tests again in UTC and UTC+14.
// ZENFLOW_TEST_DBS set (CI: sqlite,mariadb) is strict: an unreachable MariaDB fails the run.
// Unset, SQLite always runs and MariaDB runs when a server answers at 127.0.0.1:3306; when
// none does, a banner says so at the start and again at the end.
import { spawnSync } from "node:child_process";
import { readdirSync, existsSync } from "node:fs";
import { join } from "node:path";
import { mariadbAddress, mariadbAnswers } from "./mariadb-probe.mjs";

const root = join(import.meta.dirname, "..");
const dirs = ["test/unit", "test/sandbox", "test/host", "test/integration", "test/e2e", "adapters/vendure/test"];

let mariadbSkipped = false;
if (process.env.ZENFLOW_TEST_DBS === undefined) {
  mariadbSkipped = !(await mariadbAnswers());
  process.env.ZENFLOW_TEST_DBS = mariadbSkipped ? "sqlite" : "sqlite,mariadb";
}
function mariadbBanner() {
  if (!mariadbSkipped) return;
  const { host, port } = mariadbAddress();
  const line = "!".repeat(78);
  console.log(`\n${line}\n!!  MariaDB HALF NOT RUN: no server answers at ${host}:${port}.`);
  console.log("!!  Only SQLite was tested. Start MariaDB (user root, no password) and run again,");
  console.log("!!  or set ZENFLOW_TEST_DBS=sqlite,mariadb to make its absence a failure (CI does).");
  console.log(`${line}\n`);
}
mariadbBanner();
process.on("exit", mariadbBanner);
const files = dirs
  .filter((d) => existsSync(join(root, d)))
  .flatMap((d) => readdirSync(join(root, d)).filter((f) => f.endsWith(".test.ts")).map((f) => join(d, f)));

function run(label, tz, args) {
  console.log(`\n### ${label} (TZ=${tz})`);
  const r = spawnSync(process.execPath, ["--import", "tsx", "--test", "--test-concurrency=2", ...args], {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, TZ: tz },
  });
  if (r.status !== 0) {
    console.error(`\n${label} failed (exit ${r.status})`);
    process.exit(r.status ?? 1);
  }
}

const only = process.argv.slice(2);
run("test suite", "America/Argentina/Buenos_Aires", only.length ? only : files);
if (!only.length) {
  for (const tz of ["UTC", "Pacific/Kiritimati"]) {
    run("date handling", tz, ["--test-name-pattern", "time zone|dates|ship-by", "test/unit/to-zenflow-order.test.ts", "test/integration/order-sync.test.ts"]);
  }
  // The CI-size chaos run (three ERP processes on MariaDB, kills, a DB drop, faults): MariaDB only.
  if ((process.env.ZENFLOW_TEST_DBS ?? "sqlite,mariadb").split(",").map((s) => s.trim()).includes("mariadb")) {
    console.log("\n### chaos run, CI size (MariaDB)");
    const r = spawnSync(process.execPath, ["--import", "tsx", "scripts/chaos.ts", "--ci"], { cwd: root, stdio: "inherit", env: process.env });
    if (r.status !== 0) {
      console.error(`\nchaos run failed (exit ${r.status})`);
      process.exit(r.status ?? 1);
    }
  }
}
