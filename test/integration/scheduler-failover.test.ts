// Cluster-wide singletons: a scheduled task runs in one ERP process at a time, holding a lease
// row only while it runs (plugin/runtime/scheduler.ts, plugin/core/leases.ts). When its holder dies, the
// lease expires and another process runs the task within one lease period.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { Knex } from "knex";
import { systemClock } from "../../plugin/core/clock";
import { Leases } from "../../plugin/core/leases";
import { type LastRun, Scheduler, lastRunKey } from "../../plugin/runtime/scheduler";
import { KvStore } from "../../plugin/core/kv-store";
import { createTestDb, type TestDb, type TestDbKind, testDbKinds } from "../support/db";
import { scaledClock } from "../support/fast-clock";
import { recordingLogger } from "../support/recording-logger";
import { eventually, ROOT, startStack } from "../support/stack";

const HOLDER = join(__dirname, "..", "chaos", "scheduler-holder.ts");

function startHolder(
  url: string,
  holderId: string,
  leaseMs: number,
  tickMs: number,
): { child: ChildProcess; running: Promise<void>; exited: Promise<void> } {
  const child = spawn(process.execPath, ["--import", "tsx", HOLDER, url, holderId, String(leaseMs), String(tickMs)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const running = new Promise<void>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (c: Buffer) => {
      out += c.toString();
      if (out.includes(`RUNNING ${holderId}`)) resolve();
    });
    void exited.then(() => reject(new Error("the holder process exited before it ran the task")));
  });
  return { child, running, exited };
}

/** A scheduler of this test process on `db`, on real time. */
function schedulerOn(db: Knex, holderId: string, leaseMs = 60_000, tickMs?: number): Scheduler {
  return new Scheduler({
    leases: new Leases(db, systemClock),
    state: new KvStore(db, systemClock),
    clock: systemClock,
    log: recordingLogger(),
    holderId,
    leaseMs,
    ...(tickMs === undefined ? {} : { tickMs }),
  });
}

/**
 * A test database with the plugin's tables and nothing else running on it: no host (whose own
 * health check, started at enable, may still be querying when a short test closes it).
 */
async function pluginTablesOnly(kind: TestDbKind): Promise<TestDb> {
  const db = await createTestDb(kind);
  try {
    await db.knex.migrate.latest({ directory: join(ROOT, "migrations"), loadExtensions: [".ts"], tableName: "zenflow_test_migrations" });
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return db;
}

/** A point the code under test reaches (`reached`) and waits at until the test opens it. */
function checkpoint(): { reach(): void; reached: Promise<void>; open(): void; opened: Promise<void> } {
  let reach!: () => void;
  let open!: () => void;
  const reached = new Promise<void>((r) => (reach = r));
  const opened = new Promise<void>((r) => (open = r));
  return { reach, reached, open, opened };
}

for (const kind of testDbKinds()) {
  describe(`scheduler lease failover [${kind}]`, () => {
    it("the OS process running a scheduled task is SIGKILLed: another process runs it within one lease period", async () => {
      const LEASE = 2000;
      const TICK = 100;
      const stack = await startStack(kind, { plugin: { autoStart: false } });
      const holder = startHolder(stack.db.url, "erp-a", LEASE, TICK);
      const db = stack.db.knex;
      const runs: { at: number; holder: string }[] = [];
      const b = schedulerOn(db, "erp-b", LEASE, TICK);
      b.add({
        name: "probe",
        every: () => ({ intervalMs: 3_600_000 }),
        run: async () => void runs.push({ at: Date.now(), holder: "erp-b" }),
      });
      try {
        await holder.running;
        b.start();
        // While A is alive it renews the lease: B ticks often and never runs the task. Kept as a
        // real sleep on purpose: what is asserted is that nothing happens during one and a half
        // lease periods of real time (A's renewals are what keep B out), so that time must pass.
        await new Promise((r) => setTimeout(r, LEASE * 1.5));
        assert.equal(runs.length, 0, "the task ran twice at once");
        assert.equal((await db("zenflow_leases").where({ name: "task:probe" }).first()).holder, "erp-a");

        const killedAt = Date.now();
        holder.child.kill("SIGKILL");
        await holder.exited;
        const abandoned = await db("zenflow_leases").where({ name: "task:probe" }).first();
        await eventually(() => runs.length > 0, LEASE * 5, "another process ran the task");
        const [run] = runs;
        assert.ok(run!.at >= Number(abandoned.expires_at), "not before the dead holder's lease expired");
        // One lease period (the dead holder renewed at most a third of it before dying), a tick, and
        // slack for a loaded machine (npm test runs two files at once).
        assert.ok(run!.at - killedAt <= LEASE + TICK + 1000, `took over ${run!.at - killedAt} ms after the kill (lease ${LEASE} ms)`);
        // The run is recorded when it ends, a moment after it started.
        const last = await eventually(
          async () => {
            const l = await new KvStore(db, systemClock).get(lastRunKey("probe"));
            return l?.holder === "erp-b" ? l : null;
          },
          10_000,
          "B's run recorded",
        );
        assert.equal(last?.holder, "erp-b");
        assert.equal(last?.ok, true);
        // A tick now finds it done for its interval: the same check, asked directly, says "busy".
        assert.equal(await b.runTask("probe", false), "busy");
        await b.tick();
        assert.equal(runs.length, 1, "ran once, then recorded as done for its interval");
      } finally {
        await b.stop();
        holder.child.kill("SIGKILL");
        await holder.exited;
        await stack.close();
      }
    });

    it("the plugin's reconciliation, abandoned by a dead process mid-run, is taken over by a live one within one lease period", async () => {
      // One real second is one minute: a one-minute lease and interval take a second.
      const clock = scaledClock(60);
      const LEASE = 60_000;
      const stack = await startStack(kind, {
        processes: 2,
        plugin: { clock, schedulerTickMs: 50, schedulerLeaseMs: LEASE, leaseMs: 3_600_000 },
        config: { reconcileIntervalMinutes: 1 },
      });
      try {
        const db = stack.db.knex;
        const state = new KvStore(db, clock);
        await eventually(() => state.get(lastRunKey("reconcile-orders")), 10_000, "a first reconciliation");
        // A process that died mid-run leaves its lease behind, and the task due. Written only
        // while no live process holds the lease, so no run in progress overwrites it.
        let diedAt = 0;
        await eventually(
          async () => {
            diedAt = clock.now();
            const n = await db("zenflow_leases")
              .where({ name: "task:reconcile-orders" })
              .andWhere((q) => q.whereNull("holder").orWhere("expires_at", "<", diedAt))
              .update({ holder: "erp-dead:4242:abc", expires_at: diedAt + LEASE, acquired_at: diedAt });
            return n === 1;
          },
          10_000,
          "a moment when the lease is free",
        );
        await state.set(lastRunKey("reconcile-orders"), {
          at: diedAt - 5 * 60_000,
          ok: false,
          durationMs: 0,
          holder: "erp-dead:4242:abc",
        } satisfies LastRun);

        const taken = (await eventually(
          async () => {
            const last = await state.get(lastRunKey("reconcile-orders"));
            return last && last.holder !== "erp-dead:4242:abc" ? last : null;
          },
          10_000,
          "a live process ran the reconciliation",
        ))!;
        assert.ok(["p1", "p2"].includes(taken.holder), taken.holder);
        assert.equal(taken.ok, true);
        assert.ok(taken.at >= diedAt + LEASE, "not while the dead process's lease was valid");
        // Within one lease period of the death, plus a tick (50 real ms = 3 scaled s) and slack.
        assert.ok(taken.at - diedAt <= LEASE + 30_000, `took over ${((taken.at - diedAt) / 1000).toFixed(1)} scaled s after the death`);
      } finally {
        await stack.close();
      }
    });

    it("a task started twice at once in one process (a tick and runTask) runs once", async () => {
      const stack = await startStack(kind, { plugin: { autoStart: false } });
      const db = stack.db.knex;
      let now = 0;
      let max = 0;
      // The first run holds until the second call has answered (or, if it wrongly runs too,
      // until both are inside): an overlap is forced by the outcome, not by a guessed delay.
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const s = schedulerOn(db, "erp-a");
      s.add({
        name: "probe",
        every: () => ({ intervalMs: 3_600_000 }),
        run: async () => {
          max = Math.max(max, ++now);
          if (now > 1) release();
          await gate;
          now--;
        },
      });
      try {
        const calls = [s.runTask("probe", false), s.runTask("probe", true)];
        void Promise.race(calls).then(release, release);
        const results = await Promise.all(calls);
        assert.equal(max, 1, "the task ran twice at the same time");
        assert.deepEqual(results.sort(), ["busy", "ran"]);
      } finally {
        await s.stop();
        await stack.close();
      }
    });

    // After stop() returns, the engine's host closes the database: nothing the scheduler started
    // may still be using it. (The leak check saw a run started by an admin action write its last
    // run after its stack had closed; stop() has waited for every run since 25e3d4c.)
    it("stop() waits for a task started with runTask() outside a tick, as the engine and the admin actions start them", async () => {
      const db = await pluginTablesOnly(kind);
      const s = schedulerOn(db.knex, "erp-a");
      const inRun = checkpoint();
      const events: string[] = [];
      s.add({
        name: "probe",
        every: () => ({ intervalMs: 3_600_000 }),
        run: async () => {
          inRun.reach();
          await inRun.opened;
          events.push("task finished");
        },
      });
      try {
        const running = s.runTask("probe");
        await inRun.reached;
        const stopping = s.stop().then(() => void events.push("stop returned"));
        // Opened only once everything stop() does without waiting has happened.
        setImmediate(inRun.open);
        await stopping;
        await running;
        assert.deepEqual(events, ["task finished", "stop returned"]);
      } finally {
        inRun.open();
        await s.stop();
        await db.destroy();
      }
    });

    it("stop() waits for a tick in progress, and no task starts after it returned", async () => {
      const db = await pluginTablesOnly(kind);
      const s = schedulerOn(db.knex, "erp-a");
      const asking = checkpoint();
      const events: string[] = [];
      let asked = 0;
      s.add({
        name: "probe",
        every: () => ({ intervalMs: 3_600_000 }),
        runAtFirstStart: false,
        // The tick asks whether the task is wanted (a database read in the real tasks).
        wanted: async () => {
          if (asked++ === 0) {
            asking.reach();
            await asking.opened;
            events.push("tick got its answer");
          }
          return true;
        },
        run: async () => void events.push("task ran"),
      });
      try {
        const tick = s.tick(); // what the scheduler's interval calls
        await asking.reached;
        const stopping = s.stop().then(() => void events.push("stop returned"));
        setImmediate(asking.open);
        await stopping;
        await tick;
        await s.stop(); // whatever that tick started after the first stop() ends here
        assert.deepEqual(events, ["tick got its answer", "stop returned"]);
      } finally {
        asking.open();
        await s.stop();
        await db.destroy();
      }
    });
  });
}
