// Issue #5: housekeeping deletes only finished rows older than the retention, in batches,
// and runs as a scheduled task that one process in the cluster takes through its lease.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { systemClock } from "../../plugin/core/clock";
import { HOUSEKEEPING_TASK, housekeepingTask, purgeExpired } from "../../plugin/runtime/tasks/housekeeping";
import { testDbKinds } from "../support/db";
import { eventually, type Stack, startStack } from "../support/stack";
import { lastRunKey } from "../../plugin/runtime/scheduler";

const DAY = 86_400_000;

for (const kind of testDbKinds()) {
  describe(`housekeeping [${kind}]`, () => {
    let stack: Stack;
    before(async () => {
      stack = await startStack(kind, { plugin: { autoStart: false } });
    });
    after(async () => {
      await stack?.close();
    });

    it("purges only finished jobs, processed and dead webhooks, history and event ids older than the retention, and idle inbox leases", async () => {
      const db = stack.db.knex;
      const now = Date.now();
      const old = now - 31 * DAY;
      const recent = now - 29 * DAY;
      let n = 0;
      const outbox = (status: string, at: number, tag: string) => {
        const key = `order:hk-${tag}-${++n}`;
        const live = status === "pending" || status === "running";
        return {
          kind: "order",
          entity_key: key,
          erp_ref: `HK-${tag}-${n}`,
          active_key: live ? key : null,
          payload: "{}",
          status,
          priority: 10,
          attempts: 1,
          run_at: at,
          created_at: at,
          updated_at: at,
          finished_at: live ? null : at,
        };
      };
      const inbox = (status: string, at: number, tag: string) => ({
        event_id: `evt-hk-${tag}-${++n}`,
        event: "order/updated",
        kind: "order",
        payload: "{}",
        status,
        priority: 50,
        attempts: 1,
        run_at: at,
        created_at: at,
        updated_at: at,
        finished_at: status === "pending" ? null : at,
      });
      const expiredOutbox = ["done", "done", "done", "done", "done", "superseded", "discarded"];
      const keptStatuses = ["dead", "pending", "running"];
      await db("zenflow_outbox").insert([
        ...expiredOutbox.map((s) => outbox(s, old, "old")),
        ...keptStatuses.map((s) => outbox(s, old, "keep")),
        ...["done", "superseded", "discarded", "dead"].map((s) => outbox(s, recent, "recent")),
      ]);
      await db("zenflow_inbox").insert([
        ...["done", "done", "ignored", "discarded", "dead"].map((s) => inbox(s, old, "old")),
        ...["pending"].map((s) => inbox(s, old, "keep")),
        ...["done", "ignored", "dead"].map((s) => inbox(s, recent, "recent")),
      ]);
      await db("zenflow_history").insert(
        [...Array(7).fill(old), ...Array(3).fill(recent)].map((at, i) => ({
          entity_key: `order:hk-h${i}`,
          kind: "order",
          outcome: "sent",
          at,
        })),
      );
      // The order timeline's requests age out with the history they explain.
      await db("zenflow_requests").insert(
        [...Array(4).fill(old), ...Array(2).fill(recent)].map((at) => ({
          entity_key: "order:hk-r",
          endpoint: "POST /orders",
          path: "/orders",
          status: 201,
          outcome: "ok",
          duration_ms: 5,
          batch_size: 1,
          minute_start: 0,
          hour_start: 0,
          at,
        })),
      );
      await db("zenflow_seen_events").insert([
        ...[1, 2, 3, 4, 5].map((i) => ({ event_id: `seen-old-${i}`, seen_at: old })),
        ...[1, 2].map((i) => ({ event_id: `seen-new-${i}`, seen_at: recent })),
      ]);

      // A per-order inbox lease released long ago, one held right now, and a task's lease.
      await db("zenflow_leases").insert([
        { name: "inbox:released-long-ago", holder: null, expires_at: 0 },
        { name: "inbox:held-now", holder: "p1", expires_at: now + 60_000 },
        { name: "task:hk-test", holder: null, expires_at: 0 },
      ]);
      // Batches of 2 with the pause: several statements per table.
      const report = await purgeExpired({ db, clock: systemClock, retentionDays: 30, batchSize: 2, pauseMs: 1 });
      assert.deepEqual(
        { ...report, cutoff: undefined },
        {
          cutoff: undefined,
          outbox: 7,
          inbox: 5,
          history: 7,
          requests: 4,
          seenEvents: 5,
          leases: 1,
        },
      );

      const left = async (table: string, col: string) =>
        (await db(table).select(col, "status").orderBy("id")).map((r: Record<string, unknown>) => `${r[col]}:${r.status}`);
      assert.deepEqual(
        (await left("zenflow_outbox", "erp_ref")).map((s) => s.replace(/-\d+:/, ":")),
        [
          "HK-keep:dead",
          "HK-keep:pending",
          "HK-keep:running",
          "HK-recent:done",
          "HK-recent:superseded",
          "HK-recent:discarded",
          "HK-recent:dead",
        ],
      );
      assert.deepEqual(
        (await left("zenflow_inbox", "event_id")).map((s) => s.replace(/-\d+:/, ":")),
        ["evt-hk-keep:pending", "evt-hk-recent:done", "evt-hk-recent:ignored", "evt-hk-recent:dead"],
      );
      assert.deepEqual(
        (await db("zenflow_history").where("entity_key", "like", "order:hk-h%").select("at")).map((r: { at: unknown }) => Number(r.at)),
        [recent, recent, recent],
      );
      assert.deepEqual(
        (await db("zenflow_requests").where("entity_key", "order:hk-r").select("at")).map((r: { at: unknown }) => Number(r.at)),
        [recent, recent],
      );
      assert.deepEqual(
        (await db("zenflow_seen_events").select("event_id").orderBy("event_id")).map((r: { event_id: string }) => r.event_id),
        ["seen-new-1", "seen-new-2"],
      );
      assert.deepEqual(
        (await db("zenflow_leases").whereIn("name", ["inbox:released-long-ago", "inbox:held-now", "task:hk-test"]).orderBy("name")).map(
          (r: { name: string }) => r.name,
        ),
        ["inbox:held-now", "task:hk-test"],
      );
      // A second pass finds nothing more.
      const again = await purgeExpired({ db, clock: systemClock, retentionDays: 30, pauseMs: 0 });
      assert.deepEqual([again.outbox, again.inbox, again.history, again.requests, again.seenEvents], [0, 0, 0, 0, 0]);
    });

    it("runs as a scheduled task with the configured retention, in one process at a time", async () => {
      const db = stack.db.knex;
      assert.deepEqual(await stack.main.host.saveConfig({ ...stack.config, retentionDays: 2 }), { ok: true });
      await eventually(
        () => stack.main.plugin.runtime()?.config?.retentionDays === 2 && stack.main.plugin.runtime()?.engine,
        5000,
        "retention applied",
      );
      const now = Date.now();
      await db("zenflow_history").insert([
        { entity_key: "order:hk-task-old", kind: "order", outcome: "sent", at: now - 3 * DAY },
        { entity_key: "order:hk-task-new", kind: "order", outcome: "sent", at: now - 1 * DAY },
      ]);
      const { engine, parts: shared } = stack.main.plugin.runtime()!;

      // Another process holds the task's lease: this one does not run it.
      assert.ok(await shared.leases.tryAcquire(`task:${HOUSEKEEPING_TASK}`, "another-process", 60_000));
      assert.equal(await engine!.scheduler.runTask(HOUSEKEEPING_TASK), "busy");
      assert.equal(Number((await db("zenflow_history").where({ entity_key: "order:hk-task-old" }).count({ n: "*" }).first())!.n), 1);
      await shared.leases.release(`task:${HOUSEKEEPING_TASK}`, "another-process");

      assert.equal(await engine!.scheduler.runTask(HOUSEKEEPING_TASK), "ran");
      const keys = (await db("zenflow_history").whereIn("entity_key", ["order:hk-task-old", "order:hk-task-new"]).select("entity_key")).map(
        (r: { entity_key: string }) => r.entity_key,
      );
      assert.deepEqual(keys, ["order:hk-task-new"]);
      const last = await shared.state.get(lastRunKey(HOUSEKEEPING_TASK));
      assert.equal(last?.ok, true);
      const line = stack.main.log.lines.find((l) => l.msg === "housekeeping deleted expired rows");
      assert.ok(line, "the run is logged");
      assert.equal((line.obj as { retentionDays: number }).retentionDays, 2);
      // Daily: not due again an hour later, due the next day.
      const task = housekeepingTask({ db, clock: systemClock, log: stack.main.log, retentionDays: 2 });
      const lastRun = { at: Date.UTC(2026, 10, 28, 4, 17), ok: true, durationMs: 1, holder: "p1" };
      assert.equal(engine!.scheduler.isDue(task, lastRun, Date.UTC(2026, 10, 28, 5, 17)), false);
      assert.equal(engine!.scheduler.isDue(task, lastRun, Date.UTC(2026, 10, 29, 4, 18)), true);
    });
  });
}
