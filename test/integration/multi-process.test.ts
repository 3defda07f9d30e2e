// Several ERP processes on one database: no job is sent twice, the rate budget is shared,
// and a Retry-After pause seen by one process is honoured by all.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { testDbKinds } from "../support/db";
import { newOrder } from "../support/builders";
import { scaledClock } from "../support/fast-clock";
import { eventually, startStack } from "../support/stack";
import { watchStalls } from "../support/stalls";
import { JobQueue } from "../../plugin/outbox/queue";
import { systemClock } from "../../plugin/core/clock";

for (const kind of testDbKinds()) {
  describe(`several ERP processes [${kind}]`, () => {
    it("two workers drain the same backlog without sending any order twice", async () => {
      const stack = await startStack(kind, { processes: 2, plugin: { autoStart: false }, config: { orderBatchSize: 10 } });
      try {
        for (let i = 1; i <= 300; i++) await stack.procs[i % 2]!.host.erp.createOrder(newOrder(60_000 + i));
        // Both workers claim and send at the same moment, round after round, so they really
        // compete for the same rows (SKIP LOCKED on MariaDB, the guarded UPDATE on SQLite).
        await stack.main.plugin.runtime()!.parts.eventLog.route(1000);
        const workers = stack.procs.map((p) => p.plugin.runtime()!.engine!.worker);
        // Jobs each worker claimed, round by round: the proof that both competed.
        const claimed: number[][] = [];
        for (let round = 0; round < 20; round++) {
          const n = await Promise.all(workers.map((w) => w.runOnce()));
          claimed.push(n);
          if (n.every((x) => x === 0)) break;
        }
        assert.equal(Number((await stack.db.knex("zenflow_outbox").where({ status: "done" }).count({ n: "*" }))[0]!.n), 300);
        const sent = new Map<string, number>();
        for (const r of stack.sandbox.requests().filter((r) => r.method === "POST" && r.path.endsWith("/orders"))) {
          for (const o of (r.body as { orders: { order_tenant_id: string }[] }).orders)
            sent.set(o.order_tenant_id, (sent.get(o.order_tenant_id) ?? 0) + 1);
        }
        assert.equal(sent.size, 300);
        assert.deepEqual(
          [...sent.values()].filter((n) => n > 1),
          [],
          "an order was sent twice",
        );
        assert.equal(stack.sandbox.orders().length, 300);
        // (Which worker's token a done row carries is not the measure: a job one worker
        // claimed and had to retry may be finished by the other.)
        assert.ok(
          [0, 1].every((w) => claimed.some((round) => round[w]! > 0)),
          `both processes claimed work; per round: ${JSON.stringify(claimed)}`,
        );
      } finally {
        await stack.close();
      }
    });

    it("a claim in progress locks only the rows it takes: another process claims the next ones meanwhile", async () => {
      const stack = await startStack(kind, { plugin: { autoStart: false } });
      try {
        for (let i = 1; i <= 300; i++) await stack.main.host.erp.createOrder(newOrder(61_000 + i));
        await stack.main.plugin.runtime()!.parts.eventLog.route(1000);
        const queue = (db: typeof stack.db.knex, workerId: string) =>
          new JobQueue({ db, table: "zenflow_outbox", activeKey: true, clock: systemClock, workerId, leaseMs: 60_000 });
        // SQLite has one writer: a claim cannot overlap another. On MariaDB the first claim
        // runs inside a transaction that stays open, so its row locks are held while the second
        // process claims (with a full scan and a sort it had locked all 300 rows, and the
        // second claim got none).
        const disjoint = (a: { id: number }[], b: { id: number }[]) => {
          const ids = new Set(a.map((j) => j.id));
          assert.ok(
            b.every((j) => !ids.has(j.id)),
            "no row claimed twice",
          );
        };
        if (kind === "sqlite") {
          const [a, b] = await Promise.all([
            queue(stack.db.knex, "a").claim(100, ["order"]),
            queue(stack.db.knex, "b").claim(100, ["order"]),
          ]);
          assert.deepEqual([a.length, b.length], [100, 100]);
          disjoint(a, b);
          return;
        }
        const held = await stack.db.knex.transaction({ isolationLevel: "read committed" });
        try {
          const first = await queue(held, "a").claim(100, ["order"]);
          assert.equal(first.length, 100);
          const second = await queue(stack.db.knex, "b").claim(100, ["order"]);
          assert.equal(second.length, 100, "the second process claimed while the first held its rows");
          disjoint(first, second);
        } finally {
          await held.rollback();
        }
      } finally {
        await stack.close();
      }
    });

    it("processes share one per-minute budget: never more than the limit in a window, no 429", async () => {
      // One real second is one minute for the sandbox and both plugins.
      const clock = scaledClock(60);
      const stack = await startStack(kind, {
        processes: 2,
        sandbox: { now: clock.now, limits: { perMinute: 5, perHour: 1000, perDay: 10000 } },
        // No token in the last 6 scaled seconds of a window (100 real ms): a request whose token
        // was counted in one minute must reach the sandbox before the next. 3 s (50 real ms) was
        // crossed once in CI's parallel run, and the sandbox counted that request in the next
        // minute as a sixth (one 429).
        plugin: { clock, boundaryGuardMs: 6000, pollMs: 1000 },
        config: { orderBatchSize: 1, rateLimitPerMinute: 5, maxConcurrentRequests: 2 },
      });
      try {
        for (let i = 1; i <= 16; i++) await stack.procs[i % 2]!.host.erp.createOrder(newOrder(70_000 + i));
        await eventually(() => stack.sandbox.orders().length === 16, 20_000, "16 orders sent");
        const report = Object.values(stack.sandbox.budgetReport())[0]!;
        assert.equal(report.limit429s, 0, "no request was refused for exceeding the budget");
        assert.ok(report.maxPerMinuteWindow <= 5, `max per minute ${report.maxPerMinuteWindow}`);
        assert.equal(report.maxPerMinuteWindow, 5, "the budget is used, not wasted");
        assert.deepEqual(report.retryAfterViolations, []);
      } finally {
        await stack.close();
      }
    });

    it("a 429 seen by one process pauses every process until Retry-After has passed", async () => {
      // Requests already on the wire when the 429 goes out may reach the sandbox (in this same,
      // possibly loaded, process) a little later: 250 ms of grace, as in the chaos run.
      const stack = await startStack(kind, {
        processes: 2,
        sandbox: { retryAfterGraceMs: 250 },
        plugin: { autoStart: false },
        config: { orderBatchSize: 5 },
      });
      try {
        for (let i = 1; i <= 40; i++) await stack.procs[i % 2]!.host.erp.createOrder(newOrder(80_000 + i));
        const stalls = watchStalls();
        stack.sandbox.failNext(1, "429", { retryAfterSeconds: 2 });
        for (const p of stack.procs) p.plugin.runtime()!.engine!.worker.start();
        await eventually(() => stack.sandbox.orders().length === 40, 20_000, "all orders sent");
        const reqs = stack.sandbox.requests();
        const first429 = reqs.find((r) => r.status === 429)!;
        assert.ok(first429, "a 429 was answered");
        stalls.stop();
        const grace = 250 + Math.ceil(stalls.maxMs());
        const during = reqs.filter((r) => r.at > first429.at + grace && r.at < first429.at + 2000);
        assert.deepEqual(
          during.map((r) => `${r.path} at +${r.at - first429.at} ms (grace ${grace} ms)`),
          [],
          "nothing sent inside the Retry-After window",
        );
        const report = Object.values(stack.sandbox.budgetReport())[0]!;
        assert.deepEqual(
          report.retryAfterViolations.filter((v) => v.at > first429.at + grace),
          [],
        );
        const budget = await stack.db.knex("zenflow_budget").first();
        assert.ok(Number(budget.paused_until) >= first429.at + 1900, "pause recorded in the shared table");
      } finally {
        await stack.close();
      }
    });
  });
}
