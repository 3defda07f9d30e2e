// Issue #6 benchmark: what one shared-budget token costs. Every request to ZenFlow first runs
// SharedBudget.tryTake(): one UPDATE of the key's budget row that checks the minute, hour and
// day windows together. The baseline is the cheapest write there is on the same database: a
// trivial `UPDATE … SET n = n + 1` of one row. Samples alternate, so both see the same load.
// Contended: three connection pools (three ERP processes) taking tokens at once, against the
// same three pools incrementing one shared row — MariaDB only (SQLite has one writer per file,
// and in one OS process better-sqlite3 connections would block each other).
import { performance } from "node:perf_hooks";
import type { Knex } from "knex";
import { systemClock } from "../plugin/core/clock";
import { SharedBudget } from "../plugin/budget/shared-budget";
import { readManifest } from "../dev/host/manifest";
import { migrateLatest } from "../dev/host/plugin-migrations";
import { createTestDb, testDbKinds, type TestDbKind } from "../test/support/db";
import { ROOT } from "../test/support/stack";
import { printTable, summary, writeResult } from "./support";

const SAMPLES = Number(process.env.BENCH_TOKEN_SAMPLES ?? 5000);
const CONTENDED = Number(process.env.BENCH_TOKEN_CONTENDED ?? 3000);
const UNLIMITED = { perMinute: 1e9, perHour: 1e9, perDay: 1e9 };

async function prepare(db: Knex): Promise<void> {
  await migrateLatest(db, ROOT, await readManifest(ROOT));
  await db.schema.dropTableIfExists("bench_counter");
  await db.schema.createTable("bench_counter", (t) => {
    t.integer("id").primary();
    t.bigInteger("n").notNullable();
  });
  await db("bench_counter").insert({ id: 1, n: 0 });
}

const bump = (db: Knex) => db.raw("UPDATE bench_counter SET n = n + 1 WHERE id = 1");

function budget(db: Knex): SharedBudget {
  // No boundary guard: the benchmark measures the statement, not the last 250 ms of a minute.
  return new SharedBudget({ db, keyId: "bench", limits: UNLIMITED, clock: systemClock, boundaryGuardMs: 0 });
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

async function single(kind: TestDbKind) {
  const tdb = await createTestDb(kind);
  try {
    await prepare(tdb.knex);
    const b = budget(tdb.knex);
    await b.ensureRow();
    for (let i = 0; i < 200; i++) {
      await b.tryTake();
      await bump(tdb.knex);
    }
    const take: number[] = [];
    const base: number[] = [];
    let refused = 0;
    for (let i = 0; i < SAMPLES; i++) {
      take.push(await timed(async () => void ((await b.tryTake()).ok || refused++)));
      base.push(await timed(() => bump(tdb.knex)));
    }
    if (refused) throw new Error(`${refused} tokens refused: the benchmark must measure granted tokens`);
    return { kind, take: summary(take), base: summary(base) };
  } finally {
    await tdb.destroy();
  }
}

/** Three pools, `CONTENDED` operations each, all at once; returns latency and throughput. */
async function contended(pools: Knex[], op: (db: Knex) => Promise<unknown>) {
  const lat: number[] = [];
  const t0 = performance.now();
  await Promise.all(
    pools.map(async (db) => {
      for (let i = 0; i < CONTENDED; i++) lat.push(await timed(() => op(db)));
    }),
  );
  const wall = performance.now() - t0;
  return { ...summary(lat), perSecond: (pools.length * CONTENDED) / (wall / 1000) };
}

async function threePools() {
  const tdb = await createTestDb("mariadb");
  try {
    await prepare(tdb.knex);
    const pools = [tdb.knex, tdb.connect(), tdb.connect()];
    const budgets = pools.map(budget);
    await budgets[0]!.ensureRow();
    await contended(pools, (db) => bump(db)); // warm-up
    const base = await contended(pools, (db) => bump(db));
    const take = await contended(pools, (db) => budgets[pools.indexOf(db)]!.tryTake());
    const again = await contended(pools, (db) => bump(db));
    return { take, base: again.p50 > base.p50 ? base : again };
  } finally {
    await tdb.destroy();
  }
}

async function main() {
  const kinds = testDbKinds();
  const results = [];
  for (const kind of kinds) results.push(await single(kind));
  printTable(
    "one shared-budget token (SharedBudget.tryTake) vs a trivial one-row UPDATE, one process (ms)",
    results.map((r) => ({
      db: r.kind,
      "tryTake p50": r.take.p50,
      "tryTake p99": r.take.p99,
      "UPDATE p50": r.base.p50,
      "UPDATE p99": r.base.p99,
      "ratio p50": r.take.p50 / r.base.p50,
      "ratio p99": r.take.p99 / r.base.p99,
    })),
  );
  const three = kinds.includes("mariadb") ? await threePools() : null;
  if (three) {
    printTable("three connection pools (as three ERP processes) taking tokens from one row at once (MariaDB, ms; ops/s all together)", [
      { op: "tryTake", p50: three.take.p50, p99: three.take.p99, "ops/s": Math.round(three.take.perSecond) },
      { op: "trivial UPDATE", p50: three.base.p50, p99: three.base.p99, "ops/s": Math.round(three.base.perSecond) },
      {
        op: "ratio",
        p50: three.take.p50 / three.base.p50,
        p99: three.take.p99 / three.base.p99,
        "ops/s": three.take.perSecond / three.base.perSecond,
      },
    ]);
  }
  console.log(
    `\nwritten ${writeResult("budget-token", { samples: SAMPLES, contendedPerPool: CONTENDED, results, threeProcesses: three })}`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
