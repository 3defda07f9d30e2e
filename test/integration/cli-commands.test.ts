// Issue #5: the zenflow-erp command line, run as a real child process against the real
// database of a running stack. Asserts exit codes, what it prints, and the rows it changes.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { clearRequest, pendingRequest, readProgress, requestRun, writeProgress } from "../../plugin/core/runs";
import { newOrder } from "../support/builders";
import { testDbKinds } from "../support/db";
import { addSandboxProduct, eventually, ROOT, routeAll, SANDBOX_KEY, type Stack, startStack } from "../support/stack";

const WEBHOOK_SECRET = "whsec_cli_test_secret_value";
const STOCKED = "7794000000015";

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string | undefined>): { done: Promise<Run>; stderr: () => string } {
  const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "plugin/cli/main.ts"), ...args], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: undefined, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += String(d)));
  child.stderr.on("data", (d) => (stderr += String(d)));
  const done = new Promise<Run>((resolve, reject) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
  return { done, stderr: () => stderr };
}

function noSecrets(r: Run): void {
  for (const secret of [SANDBOX_KEY, WEBHOOK_SECRET]) assert.ok(!`${r.stdout}${r.stderr}`.includes(secret), "no secret in the CLI output");
}

// The databases' suites and the usage checks run side by side: most of the time is spent
// starting CLI processes.
describe("command line", { concurrency: true }, () => {
  it("exits 2 on usage errors and 3 when the database cannot be reached, without printing the password", async () => {
    const none = "sqlite:/nonexistent/dir/erp.sqlite";
    const [noUrl, unknown, badOpt, badId, noIds, help, mysqlDown, sqliteMissing, notOurs] = await Promise.all([
      cli(["status"], {}).done,
      cli(["frobnicate"], { DATABASE_URL: none }).done,
      cli(["status", "--colour"], { DATABASE_URL: none }).done,
      // Arguments are checked before the database: these are usage errors even with no database.
      cli(["retry-dead", "SO-123"], { DATABASE_URL: none }).done,
      cli(["retry-dead"], { DATABASE_URL: none }).done,
      cli(["--help"], {}).done,
      cli(["status"], { DATABASE_URL: "mysql://zenflow:s3cr3t-pw@127.0.0.1:1/erp" }).done,
      cli(["status"], { DATABASE_URL: none }).done,
      cli(["status", "--json"], { DATABASE_URL: "mysql://root@127.0.0.1:3306/mysql" }).done,
    ]);
    assert.equal(badId.code, 2);
    assert.match(badId.stderr, /"SO-123" is not a job id/);
    assert.equal(noIds.code, 2);
    assert.equal(noUrl.code, 2);
    assert.match(noUrl.stderr, /set DATABASE_URL/);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command "frobnicate"/);
    assert.equal(badOpt.code, 2);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Exit codes: 0 ok, 1 failure or not healthy, 2 usage error, 3 database unreachable/);
    assert.equal(mysqlDown.code, 3);
    assert.match(mysqlDown.stderr, /cannot reach the database at mysql:\/\/zenflow:\*\*\*@127\.0\.0\.1:1\/erp/);
    assert.ok(!mysqlDown.stderr.includes("s3cr3t-pw"), "the password is masked");
    assert.equal(sqliteMissing.code, 3);
    assert.match(sqliteMissing.stderr, /no SQLite database at \/nonexistent\/dir\/erp\.sqlite/);
    if (testDbKinds().includes("mariadb")) {
      assert.equal(notOurs.code, 3);
      assert.match(notOurs.stderr, /has no ZenFlow tables/);
    }
  });

  for (const kind of testDbKinds()) {
    describe(`command line [${kind}]`, { concurrency: 1 }, () => {
      let stack: Stack;
      let env: Record<string, string>;
      before(async () => {
        stack = await startStack(kind, {
          sandbox: { strictBarcodes: true },
          plugin: { autoStart: false },
          config: { webhookSecret: WEBHOOK_SECRET },
        });
        env = { DATABASE_URL: stack.db.url };
        await addSandboxProduct(stack, STOCKED);
      });
      after(async () => {
        await stack?.close();
      });

      it("status, retry-dead and the plugin delivering the retried order", async () => {
        const erp = stack.main.host.erp;
        const line = (barcode: string) => [{ sku: "MATE", barcode, quantity: 1, unitPrice: "9.90" }];
        const good = await erp.createOrder(newOrder(8001, { items: line(STOCKED) }));
        const bad = await erp.createOrder(newOrder(8002, { items: line("7794000008002") }));
        await stack.drain();
        assert.ok(stack.sandbox.order(good.number));
        const dead = await stack.db.knex("zenflow_outbox").where({ erp_ref: bad.number, status: "dead" }).first();
        assert.ok(dead);

        const [text, json] = await Promise.all([cli(["status"], env).done, cli(["status", "--json"], env).done]);
        assert.equal(text.code, 1, text.stderr);
        assert.match(text.stdout, /^ZenFlow sync: degraded — 1 change could not be synced/);
        assert.match(text.stdout, /Waiting: 0 · being sent: 0 · dead letters: 1/);
        assert.match(text.stdout, /Rate budget used: \d+\/60 this minute, \d+\/1000 this hour/);
        assert.match(
          text.stdout,
          new RegExp(
            `outbox:${dead.id}  order ${bad.number}  failed .* after 1 attempt\\n\\s+Order ${bad.number}: ZenFlow rejected it — .*Unknown barcode 7794000008002`,
          ),
        );
        assert.equal(json.code, 1);
        const s = JSON.parse(json.stdout);
        assert.equal(s.status, "degraded");
        assert.equal(s.deadLetters, 1);
        assert.equal(s.deadLetterList[0].job, `outbox:${dead.id}`);
        assert.equal(s.deadLetterList[0].erpRef, bad.number);
        assert.match(s.lastSuccessAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
        // The hour, not the minute: a minute boundary may fall between the sends and this call
        // (and the two orders may have shared one request).
        assert.ok(s.budget.used.hour >= 1, JSON.stringify(s.budget.used));
        noSecrets(text);
        noSecrets(json);

        const missing = await cli(["retry-dead", "999999", String(dead.id)], env).done;
        assert.equal(missing.code, 1, "one of the ids was not a dead letter");
        assert.match(missing.stdout, /outbox:999999: not a dead letter/);
        assert.match(missing.stdout, new RegExp(`outbox:${dead.id} \\(${bad.number}\\): retrying now`));
        const row = await stack.db.knex("zenflow_outbox").where({ id: dead.id }).first();
        assert.deepEqual([row.status, Number(row.attempts), row.active_key], ["pending", 0, row.entity_key]);

        // The cause is fixed in ZenFlow; the running plugin (not the CLI) sends it.
        await addSandboxProduct(stack, "7794000008002");
        await stack.drain();
        assert.ok(stack.sandbox.order(bad.number));
        const ok = await cli(["status"], env).done;
        assert.equal(ok.code, 0, ok.stdout);
        assert.match(ok.stdout, /^ZenFlow sync: ok — In sync — 0 waiting/);

        const none = await cli(["retry-dead", "--all", "--json"], env).done;
        assert.equal(none.code, 0);
        assert.deepEqual(JSON.parse(none.stdout), { retried: 0, superseded: 0, items: [] });

        // The order's story from the plugin's tables: refused, retried, sent (#13 item 5).
        const zid = String(stack.sandbox.order(bad.number)!.id);
        const [story, storyJson, unknown] = await Promise.all([
          cli(["lookup", bad.number], env).done,
          cli(["lookup", zid, "--json"], env).done,
          cli(["lookup", "SO-NOBODY-8003"], env).done,
        ]);
        assert.equal(story.code, 0, story.stderr);
        assert.match(story.stdout, new RegExp(`^Order ${bad.number} \\(ZenFlow ${zid}\\)\nWhat now: In ZenFlow as order ${zid}`));
        assert.match(
          story.stdout,
          /UTC {2}POST \/orders \[validation_error\]\n {4}HTTP 4\d\d \(validation_error\)[^\n]*counted in the budget minute/,
        );
        assert.match(story.stdout, /UTC {2}Dead letter \[dead\]\n[^\n]*Unknown barcode 7794000008002/);
        assert.match(story.stdout, /UTC {2}Sent to ZenFlow \[sent\]/);
        assert.ok(story.stdout.indexOf("[dead]") < story.stdout.indexOf("[sent]"), "oldest first");
        assert.equal(storyJson.code, 0);
        const t = JSON.parse(storyJson.stdout);
        assert.equal(t.order.number, bad.number);
        assert.ok(t.entries.every((e: { at: string }) => /^\d{4}-\d\d-\d\dT.*Z$/.test(e.at)));
        assert.equal(unknown.code, 1);
        assert.match(unknown.stdout, /No order "SO-NOBODY-8003" is known/);
        noSecrets(story);
        noSecrets(storyJson);
      });

      it("replay-webhook puts a received webhook back in the inbox queue", async () => {
        const now = Date.now();
        await stack.db.knex("zenflow_inbox").insert({
          event_id: "evt_cli_replay_1",
          event: "order/updated",
          kind: "order",
          entity_key: null,
          payload: "{}",
          status: "done",
          priority: 50,
          attempts: 1,
          run_at: now - 60_000,
          created_at: now - 60_000,
          updated_at: now - 60_000,
          finished_at: now - 59_000,
        });
        const r = await cli(["replay-webhook", "evt_cli_replay_1"], env).done;
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /Webhook evt_cli_replay_1 will be processed again/);
        const row = await stack.db.knex("zenflow_inbox").where({ event_id: "evt_cli_replay_1" }).first();
        assert.deepEqual([row.status, Number(row.attempts), row.finished_at], ["pending", 0, null]);
        assert.ok(Number(row.run_at) >= now);

        const [again, unknown] = await Promise.all([
          cli(["replay-webhook", "evt_cli_replay_1", "--json"], env).done,
          cli(["replay-webhook", "evt_never_received"], env).done,
        ]);
        assert.equal(again.code, 0);
        assert.deepEqual(JSON.parse(again.stdout), { eventId: "evt_cli_replay_1", outcome: "already_waiting" });
        assert.equal(unknown.code, 1);
        assert.match(unknown.stdout, /No webhook with event id evt_never_received/);
      });

      it("import-catalog requests the run, shows its progress until done, and follows a run already in progress", async () => {
        const state = stack.main.plugin.runtime()!.parts.state;
        const run = cli(["import-catalog", "--json"], env);
        // The test stands in for the import task (plugin/sync/export-catalog.ts): it picks the
        // request up, records progress, and clears the request when done.
        const req = await eventually(() => pendingRequest(state, "import-catalog"), 15_000, "the CLI's request");
        assert.match(req!.by, /^command line \(/);
        const startedAt = Date.now();
        // Each step waits until the CLI has drawn the previous one, so no step is skipped.
        for (const [done, shows] of [
          [0, "  0% 0/200"],
          [100, " 50% 100/200"],
        ] as const) {
          await writeProgress(state, "import-catalog", {
            status: "running",
            done,
            startedAt,
            updatedAt: Date.now(),
            total: 200,
            errors: 1,
            etaMs: 30_000,
          });
          await eventually(() => run.stderr().includes(shows), 15_000, `the CLI showing ${shows.trim()}`);
        }
        await writeProgress(state, "import-catalog", {
          status: "done",
          done: 200,
          startedAt,
          updatedAt: Date.now(),
          total: 200,
          errors: 1,
        });
        await clearRequest(state, "import-catalog");
        const r = await run.done;
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, /Catalog import requested; waiting for an ERP process to start it/);
        assert.match(r.stderr, /Catalog import \[###############\.{15}\]  50% 100\/200 · 1 error · ETA 30 s running/);
        assert.match(r.stderr, /Catalog import \[#{30}\] 100% 200\/200 · 1 error done/);
        assert.deepEqual((({ run, status, done, total }) => ({ run, status, done, total }))(JSON.parse(r.stdout)), {
          run: "import-catalog",
          status: "done",
          done: 200,
          total: 200,
        });

        // Interrupted watching (or an ERP restart) does not stop the import: running the command
        // again follows it and keeps its request, under which the import resumes.
        const t0 = Date.now() - 5000;
        await requestRun(state, "import-catalog", "dashboard", t0);
        await writeProgress(state, "import-catalog", {
          status: "running",
          startedAt: t0,
          updatedAt: Date.now(),
          done: 50,
          total: 200,
          errors: 0,
        });
        const follow = cli(["import-catalog"], env);
        await eventually(() => follow.stderr().includes("following it"), 15_000, "the CLI following the run");
        assert.equal((await pendingRequest(state, "import-catalog"))?.requestedAt, t0, "the run's request is kept, not replaced");
        const p = (await readProgress(state, "import-catalog"))!;
        await writeProgress(state, "import-catalog", {
          ...p,
          status: "failed",
          done: 120,
          updatedAt: Date.now(),
          message: "ZenFlow rejected the API key",
        });
        const f = await follow.done;
        assert.equal(f.code, 1);
        assert.match(f.stderr, /Catalog import is already running \(started .*\); following it\./);
        assert.match(f.stdout, /Catalog import failed after 120 of 200: ZenFlow rejected the API key/);

        const noWait = await cli(["sync-stock", "--no-wait"], env).done;
        assert.equal(noWait.code, 0);
        assert.match(noWait.stdout, /Stock sync requested/);
        assert.ok(await pendingRequest(state, "sync-stock"));
        noSecrets(r);
      });

      it("stock-drift requests the report, follows it and prints the differing levels (text and --json); sync-stock-anyway asks for the override", async () => {
        const state = stack.main.plugin.runtime()!.parts.state;
        const engine = stack.main.plugin.runtime()!.engine!;
        // A level only ZenFlow has: the ERP has none for this SKU.
        stack.sandbox.setStock({ barcode: STOCKED }, "LOC-A1", 4);
        const sku = `SB-${STOCKED}`;
        for (const json of [true, false]) {
          const run = cli(["stock-drift", ...(json ? ["--json"] : [])], env);
          await eventually(async () => !!(await pendingRequest(state, "stock-drift")), 15_000, "the CLI's request");
          assert.equal(await engine.scheduler.runTask("stock-drift"), "ran");
          const r = await run.done;
          assert.equal(r.code, 0, r.stderr);
          noSecrets(r);
          if (json) {
            const report = JSON.parse(r.stdout);
            assert.equal(report.compared, 1);
            assert.equal(report.differing, 1);
            assert.match(report.generatedAt, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
            assert.deepEqual(
              report.rows.map((row: Record<string, unknown>) => [
                row.sku,
                row.location,
                row.erpQuantity,
                row.zenflowQuantity,
                row.direction,
              ]),
              [[sku, "LOC-A1", null, 4, null]],
            );
          } else {
            assert.match(
              r.stdout,
              /Stock drift at .* \(who owns stock levels: none\): 1 of 1 level differs \(100%\); the full sync would write 0\. Nothing was written\./,
            );
            assert.match(
              r.stdout,
              new RegExp(`${sku}\\s+LOC-A1\\s+LOC-A1\\s+missing\\s+4\\s+-4\\s+.*nothing \\(stock is not synchronised`),
            );
          }
        }
        const anyway = await cli(["sync-stock-anyway", "--no-wait"], env).done;
        assert.equal(anyway.code, 0, anyway.stderr);
        assert.equal((await pendingRequest(state, "sync-stock"))?.ignoreDriftGuard, true);
        await clearRequest(state, "sync-stock");
      });

      it("plan asks a running process what the next sync will do and prints it (text and --json); nothing is sent", async () => {
        const state = stack.main.plugin.runtime()!.parts.state;
        const engine = stack.main.plugin.runtime()!.engine!;
        for (let i = 0; i < 60; i++) await stack.main.host.erp.createOrder(newOrder(70_000 + i));
        await routeAll(stack, 60, "order");
        const mark = stack.sandbox.requests().length;
        for (const json of [true, false]) {
          const run = cli(["plan", ...(json ? ["--json"] : [])], env);
          await eventually(async () => !!(await pendingRequest(state, "plan")), 15_000, "the CLI's request");
          assert.equal(await engine.scheduler.runTask("plan"), "ran");
          const r = await run.done;
          assert.equal(r.code, 0, r.stderr);
          noSecrets(r);
          if (json) {
            const plan = JSON.parse(r.stdout);
            assert.equal(plan.waiting, 60);
            assert.equal(plan.requestCount, 2);
            assert.deepEqual(
              plan.requests.map((q: { endpoint: string; jobIds: number[] }) => [q.endpoint, q.jobIds.length]),
              [
                ["POST /orders", 50],
                ["POST /orders", 10],
              ],
            );
            assert.match(plan.throughAt, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
          } else {
            assert.match(
              r.stdout,
              /^Next sync as of .* UTC: 60 waiting — all sent within seconds at the current budget \(2 requests\)\. Nothing was sent\./,
            );
            // 60 orders within a minute, at that rate more than the hour's 1,000: the tail of 10
            // waits up to the hold bound (5 s by default) for company.
            assert.match(r.stdout, /order\s+60\s+2\s+0\s+10 until \d\d:\d\d:\d\d UTC/);
            assert.match(
              r.stdout,
              /POST \/orders\s+50\s+full\s+SO-T-070000, SO-T-070001, SO-T-070002, SO-T-070003, SO-T-070004 … \(\+45\)/,
            );
            assert.match(r.stdout, /POST \/orders\s+10\s+waited\s+SO-T-070050/);
          }
        }
        assert.equal(stack.sandbox.requests().length, mark, "the plan sent nothing");
        await stack.drain();
      });
    });
  }
});
