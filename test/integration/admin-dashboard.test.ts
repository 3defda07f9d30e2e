// Issue #5: the admin dashboard over real HTTP through the reference host — its auth, what
// it shows, and its CSRF-protected Retry/Discard buttons, asserted in the database and the sandbox.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { NewOrderInput } from "../../dev/host";
import { clearProgress, writeProgress } from "../../plugin/core/runs";
import { newOrder } from "../support/builders";
import { testDbKinds } from "../support/db";
import { addSandboxProduct, routeAll, SANDBOX_KEY, type Stack, startStack } from "../support/stack";
import { admin, adminBase, dashboard, flashOf, post, tokenFor } from "../support/admin";

const WEBHOOK_SECRET = "whsec_dashboard_test_secret_value";
const KNOWN_BARCODE = "7791000000017";

function order(i: number, barcode: string, over: Partial<NewOrderInput> = {}): NewOrderInput {
  return newOrder(i, { items: [{ sku: `SKU-D-${i}`, barcode, quantity: 1, unitPrice: "5.00" }], ...over });
}

async function outboxRow(stack: Stack, erpRef: string, status?: string) {
  const q = stack.db.knex("zenflow_outbox").where({ erp_ref: erpRef });
  if (status) q.andWhere({ status });
  return q.orderBy("id", "desc").first();
}

for (const kind of testDbKinds()) {
  describe(`admin dashboard [${kind}]`, () => {
    let stack: Stack;
    before(async () => {
      stack = await startStack(kind, {
        sandbox: { strictBarcodes: true },
        plugin: { autoStart: false },
        config: { webhookSecret: WEBHOOK_SECRET },
      });
      await addSandboxProduct(stack, KNOWN_BARCODE);
    });
    after(async () => {
      await stack?.close();
    });

    it("answers 401 without the host's admin auth, and the public router reveals no status or metrics", async () => {
      const url = adminBase(stack);
      for (const path of ["/", "/metrics", "/plan"]) {
        assert.equal((await fetch(`${url}${path}`, { redirect: "manual" })).status, 401, `GET ${path} without auth`);
        const wrong = await fetch(`${url}${path}`, { headers: { Authorization: "Bearer not-the-token" }, redirect: "manual" });
        assert.equal(wrong.status, 401, `GET ${path} with a wrong token`);
      }
      const unauthPost = await fetch(`${url}/retry`, {
        method: "POST",
        body: "target=all",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
      });
      assert.equal(unauthPost.status, 401);

      const pub = `${stack.main.host.url}/plugins/zenflow`;
      for (const path of ["", "/", "/metrics", "/status", "/health", "/admin", "/dashboard"]) {
        const res = await fetch(`${pub}${path}`, { redirect: "manual" });
        const body = await res.text();
        assert.ok(res.status >= 400, `public ${path || "(root)"} answers ${res.status}`);
        for (const leak of [/zenflow_jobs/, /# HELP/, /In sync/, /dead letter/i, /degraded/, /Rate budget/])
          assert.doesNotMatch(body, leak, `public ${path}`);
      }
    });

    it("shows health, queues, the rate budget, dead letters with ZenFlow's message and recent failures, never a secret", async () => {
      const erp = stack.main.host.erp;
      const good = await erp.createOrder(order(5101, KNOWN_BARCODE));
      const bad = await erp.createOrder(order(5102, "7791000009999"));
      await stack.drain();
      assert.ok(stack.sandbox.order(good.number));
      assert.equal((await outboxRow(stack, bad.number))?.status, "dead");

      // Without the trailing slash relative links would break: the page redirects to it.
      const bare = await admin(stack, "");
      assert.equal(bare.status, 302);
      assert.equal(bare.headers.get("location"), "zenflow/");

      const res = await admin(stack, "/");
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type") ?? "", /text\/html/);
      assert.match(res.headers.get("content-security-policy") ?? "", /frame-ancestors 'self'/);
      assert.equal(res.headers.get("x-frame-options"), "SAMEORIGIN");
      const page = await res.text();
      assert.match(page, /Needs attention/);
      assert.match(page, /could not be synced and needs? attention/);
      assert.match(page, new RegExp(`${bad.number}[\\s\\S]*ZenFlow rejected it[\\s\\S]*Unknown barcode 7791000009999`));
      assert.match(page, /aria-label="Retry SO-T-005102"/);
      assert.match(page, /aria-label="Discard SO-T-005102"/);
      assert.match(page, /Rate budget/);
      assert.match(page, /This minute<\/th>\s*<td class="num">\d+ \/ 60<\/td>/);
      assert.match(page, /This hour<\/th>\s*<td class="num">\d+ \/ 1000<\/td>/);
      assert.match(page, /Last successful call/);
      assert.match(page, /Recent failures[\s\S]*<span class="tag dead">dead<\/span>/);
      assert.match(page, /<td>outbox<\/td>\s*<td>order<\/td>\s*<td>dead<\/td>\s*<td class="num">1<\/td>/);
      assert.doesNotMatch(page, /Catalog import/, "no import section when no import ever ran");
      for (const secret of [SANDBOX_KEY, WEBHOOK_SECRET]) assert.ok(!page.includes(secret), "no secret on the page");

      // The worker's lines name the job, the ERP order and, once known, the ZenFlow order.
      const deadDb = await outboxRow(stack, bad.number);
      const parked = stack.main.log.lines.find((l) => l.msg === "job parked as dead letter");
      assert.deepEqual((({ jobId, erpRef }) => ({ jobId, erpRef }))(parked?.obj as Record<string, unknown>), {
        jobId: Number(deadDb.id),
        erpRef: bad.number,
      });
      const sent = stack.main.log.lines.find((l) => l.msg === "job done" && (l.obj as { erpRef?: string }).erpRef === good.number);
      assert.equal(String((sent?.obj as { zenflowId?: unknown }).zenflowId), String(stack.sandbox.order(good.number)!.id));
      const logs = stack.main.log.dump();
      for (const secret of [SANDBOX_KEY, WEBHOOK_SECRET]) assert.ok(!logs.includes(secret), "no secret in the logs");
    });

    it("Retry needs a CSRF token issued for that button; with one, the dead letter is queued again and delivered once fixed", async () => {
      const bad = await erp().createOrder(order(5201, "7791000005201"));
      await stack.drain();
      const dead = await outboxRow(stack, bad.number, "dead");
      assert.ok(dead);
      const target = `outbox:${dead.id}`;
      const page = await dashboard(stack);

      const refused: Record<string, string>[] = [
        { target },
        { target, csrf: tokenFor(page, "discard") },
        { target, csrf: `${tokenFor(page, "retry")}x` },
        { target, csrf: "0.AAAA" },
      ];
      for (const fields of refused) {
        const r = await post(stack, "retry", fields);
        assert.equal(r.status, 403, JSON.stringify(fields));
        assert.match(await r.text(), /Nothing was changed/);
      }
      assert.equal((await stack.db.knex("zenflow_outbox").where({ id: dead.id }).first()).status, "dead");

      const r = await post(stack, "retry", { target, csrf: tokenFor(page, "retry") });
      assert.equal(r.status, 303);
      const location = r.headers.get("location")!;
      assert.match(location, /^\.\/\?flash=/);
      const row = await stack.db.knex("zenflow_outbox").where({ id: dead.id }).first();
      assert.equal(row.status, "pending");
      assert.equal(Number(row.attempts), 0);
      assert.equal(row.active_key, row.entity_key);
      const after = await dashboard(stack, location.slice(1));
      assert.match(after, /class="flash ok"[^>]*>Retrying SO-T-005201 \(outbox:\d+\): it is queued to be sent now\./);

      // The cause is fixed in ZenFlow; the worker delivers the retried job.
      await addSandboxProduct(stack, "7791000005201");
      await stack.drain();
      assert.ok(stack.sandbox.order(bad.number), "delivered after the retry");
      assert.equal((await stack.db.knex("zenflow_outbox").where({ id: dead.id }).first()).status, "done");
      const map = await stack.db.knex("zenflow_id_map").where({ entity_type: "order", erp_ref: bad.number }).first();
      assert.equal(String(map.zenflow_id), String(stack.sandbox.order(bad.number)!.id));
      assert.match(
        await dashboard(stack),
        /SO-T-005201<\/strong><\/td>\s*<td><span class="tag dead">dead<\/span> <span class="tag resolved">resolved since<\/span>/,
        "the old failure is marked resolved",
      );

      // A flash message is shown only when this dashboard signed it.
      const forged = await dashboard(
        stack,
        `?flash=${encodeURIComponent("Your key expired, enter it at evil.example")}&level=error&sig=abc`,
      );
      assert.doesNotMatch(forged, /evil\.example/);
    });

    it("Retry while a newer change of the same order waits supersedes the dead letter and sends the newer job now", async () => {
      const bad = await erp().createOrder(order(5301, "7791000005301"));
      await stack.drain();
      const dead = await outboxRow(stack, bad.number, "dead");
      // A later edit of the order: one live job for it already exists (active_key is unique).
      await erp().updateOrder(bad.id, { notes: "call before delivery" });
      await stack.main.plugin.runtime()!.parts.eventLog.route();
      const live = await outboxRow(stack, bad.number, "pending");
      assert.ok(live && live.id !== dead.id);

      const r = await post(stack, "retry", { target: `outbox:${dead.id}`, csrf: tokenFor(await dashboard(stack), "retry") });
      assert.equal(r.status, 303);
      assert.match(flashOf(r), /already had a newer change waiting/);
      assert.equal((await stack.db.knex("zenflow_outbox").where({ id: dead.id }).first()).status, "superseded");
      const liveNow = await stack.db.knex("zenflow_outbox").where({ id: live.id }).first();
      assert.equal(liveNow.status, "pending");
      assert.ok(Number(liveNow.run_at) <= Date.now());
    });

    it("Discard gives the dead letter up and records who did it in the history", async () => {
      const bad = await erp().createOrder(order(5401, "7791000005401"));
      await stack.drain();
      const dead = await outboxRow(stack, bad.number, "dead");
      const r = await post(stack, "discard", { target: `outbox:${dead.id}`, csrf: tokenFor(await dashboard(stack), "discard") });
      assert.equal(r.status, 303);
      assert.equal((await stack.db.knex("zenflow_outbox").where({ id: dead.id }).first()).status, "discarded");
      const h = await stack.db.knex("zenflow_history").where({ job_id: dead.id, outcome: "discarded" }).first();
      assert.ok(h);
      assert.equal(h.erp_ref, bad.number);
      assert.match(h.message, /Discarded by an ERP admin \(dashboard\)\. Last error: .*Unknown barcode 7791000005401/);
      const page = await dashboard(stack);
      assert.doesNotMatch(page, /aria-label="Retry SO-T-005401"/);

      // Discarding twice changes nothing and says so.
      const again = await post(stack, "discard", { target: `outbox:${dead.id}`, csrf: tokenFor(page, "discard") });
      assert.match(flashOf(again), /not a dead letter any more/);
    });

    it("looks up an order by number with its mapping and history, and escapes what it shows", async () => {
      const good = await erp().createOrder(order(5501, KNOWN_BARCODE));
      const odd = await erp().createOrder(order(5502, "7791000005502", { number: "SO-<i>5502</i>" }));
      await stack.drain();
      const zf = stack.sandbox.order(good.number)!;
      const page = await dashboard(stack, `?q=${encodeURIComponent(good.number)}`);
      assert.match(page, /Lookup: SO-T-005501/);
      assert.match(page, new RegExp(`In the ERP: order <strong>SO-T-005501</strong>`));
      assert.match(page, new RegExp(`<td>order</td>\\s*<td>${good.id}</td>\\s*<td>SO-T-005501</td>\\s*<td>${zf.id}</td>`));
      assert.match(page, new RegExp(`<span class="tag sent">sent</span></td>\\s*<td>${zf.id}</td>`));

      const sku = await dashboard(stack, `?q=${encodeURIComponent("SKU-D-5501")}`);
      assert.match(sku, /Nothing found|In the ERP: product/);
      const none = await dashboard(stack, "?q=SO-DOES-NOT-EXIST");
      assert.match(none, /Nothing found/);

      const escaped = await dashboard(stack, `?q=${encodeURIComponent(odd.number)}`);
      assert.ok(!escaped.includes("<i>5502</i>"), "ERP data is escaped");
      assert.match(escaped, /SO-&lt;i&gt;5502&lt;\/i&gt;/);
    });

    it("shows the catalog import with a progress bar once one exists", async () => {
      const state = stack.main.plugin.runtime()!.parts.state;
      const now = Date.now();
      await writeProgress(state, "import-catalog", {
        status: "running",
        startedAt: now - 60_000,
        updatedAt: now,
        done: 40,
        total: 160,
        errors: 2,
        etaMs: 180_000,
      });
      const page = await dashboard(stack);
      assert.match(page, /<h2>Catalog import<\/h2>/);
      assert.match(page, /aria-label="Catalog import progress" aria-valuemin="0" aria-valuemax="100" aria-valuenow="25"/);
      assert.match(page, /<strong>running<\/strong> · 40 of 160 \(25%\) · 2 errors · about 3 min left/);
      await clearProgress(state, "import-catalog");
    });

    it("the retry-dead-letters action retries every dead letter and says how many", async () => {
      for (const i of [5601, 5602]) await erp().createOrder(order(i, `779100000${i}`));
      await stack.drain();
      const dead = await stack.db.knex("zenflow_outbox").where({ status: "dead" }).count({ n: "*" }).first();
      const n = Number(dead!.n);
      assert.ok(n >= 2);
      const r = await stack.main.host.runAction("retry-dead-letters");
      assert.equal(r.ok, true);
      assert.match(r.message, new RegExp(`^Retrying ${n} dead letters\\. They are being sent now\\.$`));
      assert.equal(Number((await stack.db.knex("zenflow_outbox").where({ status: "dead" }).count({ n: "*" }).first())!.n), 0);
      const pending = await stack.db.knex("zenflow_outbox").whereIn("erp_ref", ["SO-T-005601", "SO-T-005602"]);
      assert.deepEqual(
        pending.map((p) => [p.status, Number(p.attempts)]),
        [
          ["pending", 0],
          ["pending", 0],
        ],
      );
      await stack.db.knex("zenflow_outbox").where({ status: "pending" }).update({ status: "discarded", active_key: null });
      const none = await stack.main.host.runAction("retry-dead-letters");
      assert.deepEqual([none.ok, none.message], [true, "There are no dead letters to retry."]);
    });

    it("the Next sync line leads to the plan page, which lists the requests and sends nothing", async () => {
      await stack.db.knex("zenflow_outbox").where({ status: "pending" }).update({ status: "discarded", active_key: null });
      for (const i of [5801, 5802]) await erp().createOrder(order(i, KNOWN_BARCODE));
      await routeAll(stack, 2);
      const summary = "2 waiting — all sent within seconds at the current budget (1 request)";
      // health()'s plan, which the line shows, is recomputed once the number waiting changed.
      const home = await dashboard(stack);
      assert.match(home, /<section id="next-sync">\s*<h2>Next sync<\/h2>/);
      assert.ok(home.includes(`<p>${summary}</p>`), "the plan's headline, for the 2 orders now waiting");
      assert.match(home, /<a href="plan">What will be sent, and when →<\/a>/);
      assert.match(home, /<a href="plan">Next sync<\/a> · <a href="drift">Stock drift<\/a>/);

      const mark = stack.sandbox.requests().length;
      const res = await admin(stack, "/plan");
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-security-policy") ?? "", /frame-ancestors 'self'/);
      const page = await res.text();
      assert.equal(stack.sandbox.requests().length, mark, "the page sent nothing");
      assert.ok(page.includes(`<h2>${summary}</h2>`));
      assert.match(page, /<th scope="row">order<\/th>\s*<td class="num">2<\/td>\s*<td class="num">1<\/td>/);
      assert.match(
        page,
        /<code>POST \/orders<\/code><\/td>\s*<td class="num">2<\/td>\s*<td>[^<]+<\/td>\s*<td class="message">SO-T-005801, SO-T-005802<\/td>/,
      );
      for (const secret of [SANDBOX_KEY, WEBHOOK_SECRET]) assert.ok(!page.includes(secret), "no secret on the page");

      await stack.drain();
      assert.match(await (await admin(stack, "/plan")).text(), /<h2>Nothing waiting: ZenFlow has everything\.<\/h2>/);
    });

    it("works before the plugin is configured: says why, and the metrics still answer", async () => {
      const bare = await startStack(kind, { configure: false, plugin: { autoStart: false } });
      try {
        const order = await bare.main.host.erp.createOrder(newOrder(5701));
        const headers = { Authorization: `Bearer ${bare.main.host.adminToken}` };
        const res = await fetch(`${bare.main.host.url}/admin/plugins/zenflow/`, { headers });
        assert.equal(res.status, 200);
        const page = await res.text();
        assert.match(page, /Not configured<\/span>\s*<span class="health-message">No ZenFlow API key is set/);
        assert.match(page, /Not known until the plugin is configured\./);
        assert.match(page, /<h2>Next sync<\/h2>\s*<p>Not known until the plugin is configured\.<\/p>/);
        const plan = await fetch(`${bare.main.host.url}/admin/plugins/zenflow/plan`, { headers });
        assert.equal(plan.status, 200);
        assert.match(await plan.text(), /<h2>The plugin is not configured<\/h2>/);
        assert.match(page, /<td>event_log<\/td>\s*<td>\(not routed yet\)<\/td>\s*<td>pending<\/td>\s*<td class="num">1<\/td>/);
        const metrics = await fetch(`${bare.main.host.url}/admin/plugins/zenflow/metrics`, { headers });
        assert.equal(metrics.status, 200);
        const text = await metrics.text();
        assert.match(text, /^zenflow_jobs\{queue="event_log",kind="\(not routed yet\)",status="pending"\} 1$/m);
        assert.doesNotMatch(text, /^zenflow_budget_remaining\{/m, "no budget without a key");
        assert.ok(order.number);
      } finally {
        await bare.close();
      }
    });

    function erp() {
      return stack.main.host.erp;
    }
  });
}
