// #13 item 5: the dashboard's lookup shows one order's whole life — ERP changes received, its
// job, every request to ZenFlow with its outcome and budget window, the webhook that came
// back and the note written to the ERP — in order, with a "what now" line. Real SQLite and
// MariaDB, the sandbox over HTTP (one injected 500), the reference host's admin pages.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { orderTimeline, type OrderTimeline } from "../../plugin/admin/order-timeline";
import { newOrder } from "../support/builders";
import { testDbKinds } from "../support/db";
import { dashboard } from "../support/admin";
import { eventually, startStack, type Stack } from "../support/stack";
import { webhookClient } from "../support/webhooks";

for (const kind of testDbKinds()) {
  describe(`order timeline [${kind}]`, () => {
    let stack: Stack;
    const runtime = () => stack.main.plugin.runtime()!;
    const timelineOf = async (query: string): Promise<OrderTimeline> =>
      orderTimeline(
        { db: stack.db.knex, erp: runtime().parts.erp, now: Date.now(), budget: await runtime().engine!.budget.snapshot() },
        query,
      );
    before(async () => {
      stack = await startStack(kind, { plugin: { autoStart: false } });
      await webhookClient(stack); // the subscription, so the sandbox delivers webhooks
    });
    after(async () => stack?.close());

    it("lists the ERP change, the failed and the retried request, the webhook with tracking and the note, in order", async () => {
      const erp = stack.main.host.erp;
      stack.sandbox.failNext(1, "5xx", { method: "POST", path: /\/orders$/ });
      const o = await erp.createOrder(newOrder(7001));
      await stack.drain();
      // The backoff in tests is at most 200 ms: drain until the retry went through.
      await eventually(
        async () => {
          await stack.drain();
          return stack.sandbox.order(o.number);
        },
        10_000,
        "the order in ZenFlow after its retry",
      );
      const zid = stack.sandbox.order(o.number)!.id;
      stack.sandbox.advanceOrder(o.number, "Completed", { trackingNumber: "TRK-7001", carrier: "Andreani" });
      await stack.sandbox.idle();
      await runtime().engine!.inboxWorker.drain();
      assert.equal((await erp.getOrder(o.id))!.status, "shipped");
      // A line edit after sending: ZenFlow cannot take it, the ERP order gets a note.
      await erp.updateOrder(o.id, { items: [{ sku: "SKU-7001-B", quantity: 2, unitPrice: "3.00" }] });
      await stack.drain();
      assert.ok((await erp.notes(o.id)).some((n) => /lines changed after it was sent/.test(n.note)));

      const t = await timelineOf(o.number);
      assert.equal(t.order?.number, o.number);
      assert.equal(t.order?.zenflowId, String(zid));
      const steps = t.entries.map((e) => `${e.source}|${e.title}|${e.outcome ?? ""}`);
      const expected: RegExp[] = [
        /^erp\|ERP change reached the plugin\|$/,
        /^job\|Queued as job outbox:\d+\|done$/,
        /^request\|POST \/orders\|server_error$/,
        /^outcome\|Failed; will retry\|retry$/,
        /^request\|POST \/orders\|ok$/,
        /^outcome\|Sent to ZenFlow\|sent$/,
        /^webhook\|ZenFlow webhook order\/completed received\|done$/,
        /^webhook\|ZenFlow update: applied to the erp order\|applied$/,
        /^erp\|ERP change reached the plugin\|$/,
        /^outcome\|Refused\|refused$/,
        /^note\|Note written to the ERP order\|note$/,
      ];
      // Every expected step, in this order (other lines, e.g. the second job, may sit between).
      let at = 0;
      for (const re of expected) {
        const i = steps.findIndex((s, n) => n >= at && re.test(s));
        assert.ok(i >= 0, `${re} after position ${at} in:\n${steps.join("\n")}`);
        at = i + 1;
      }
      const times = t.entries.map((e) => e.at);
      assert.deepEqual(
        times,
        [...times].sort((a, b) => a - b),
        "oldest first",
      );

      const [failed, ok] = t.entries.filter((e) => e.source === "request" && e.title === "POST /orders");
      assert.match(
        failed!.detail!,
        /^HTTP 500 \(server_error\) after \d+ ms · counted in the budget minute \d\d:\d\d and hour \d\d:00 UTC/,
      );
      assert.match(ok!.detail!, /^HTTP 20\d after \d+ ms · counted in the budget minute/);
      const applied = t.entries.find((e) => e.outcome === "applied");
      assert.match(applied!.detail!, /shipped, tracking TRK-7001/);
      const note = t.entries.find((e) => e.source === "note");
      assert.match(note!.detail!, new RegExp(`ask the warehouse to adjust ZenFlow order ${zid}`));
      assert.equal(t.whatNow.tone, "ok");
      assert.match(t.whatNow.text, new RegExp(`In ZenFlow as order ${zid}: completed \\(shipped\\)`));

      // The request rows are what the sandbox saw: two creates for this order.
      const rows = await stack.db.knex("zenflow_requests").where({ erp_ref: o.number }).orderBy("id");
      assert.deepEqual(
        rows.map((r) => [r.endpoint, r.outcome]),
        [
          ["POST /orders", "server_error"],
          ["POST /orders", "ok"],
        ],
      );
      assert.equal(Number(rows[0].status), 500);
      assert.match(String(rows[1].status), /^20\d$/);
      for (const r of rows) assert.equal(Number(r.minute_start) % 60_000, 0);

      // The same on the dashboard: a lookup by number shows the timeline, in UTC and the ERP's zone.
      const page = await dashboard(stack, `?q=${encodeURIComponent(o.number)}`);
      assert.match(page, new RegExp(`<h3>Timeline of order ${o.number}</h3>`));
      assert.match(page, /<strong>What now:<\/strong> In ZenFlow as order/);
      assert.match(page, /<th>When \(UTC\)<\/th>/);
      const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
      if (zone === "UTC" || zone === "Etc/UTC") assert.match(page, /Times in UTC: the ERP process runs on UTC/);
      else {
        assert.match(page, /<th>ERP time<\/th>/);
        assert.match(page, /\d{4}-\d\d-\d\d \d\d:\d\d:\d\d GMT[+-]\d/);
      }
      assert.match(page, /<td>POST \/orders<\/td>/);
      assert.match(page, /shipped, tracking TRK-7001/);
    });

    it("says what is next for an order waiting for its retry", async () => {
      const erp = stack.main.host.erp;
      stack.sandbox.failNext(1, "5xx", { method: "POST", path: /\/orders$/ });
      const o = await erp.createOrder(newOrder(7002));
      await runtime().engine!.worker.runOnce();
      const t = await timelineOf(o.number);
      const job = await stack.db.knex("zenflow_outbox").where({ erp_ref: o.number }).first();
      if (job.status === "pending" && Number(job.run_at) > Date.now())
        assert.match(t.whatNow.text, /^Retrying at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
      else assert.match(t.whatNow.text, /due now|Being sent|Retrying/);
      assert.equal(t.whatNow.tone, "waiting");
      await eventually(async () => {
        await stack.drain();
        return stack.sandbox.order(o.number);
      });
    });

    it("a queued order is due now, or waits for the settings when there is no budget", async () => {
      const o = await stack.main.host.erp.createOrder(newOrder(7004));
      await runtime().parts.eventLog.route();
      assert.match((await timelineOf(o.number)).whatNow.text, /^Queued as job outbox:\d+ and due now/);
      const unconfigured = await orderTimeline({ db: stack.db.knex, erp: runtime().parts.erp, now: Date.now(), budget: null }, o.number);
      assert.match(unconfigured.whatNow.text, /nothing is sent until the plugin is configured/);
      assert.deepEqual(
        unconfigured.entries.map((e) => e.title),
        ["ERP change reached the plugin", unconfigured.entries[1]!.title],
      );
      assert.match(unconfigured.entries[1]!.title, /^Queued as job outbox:\d+$/);
      await stack.drain();
    });

    it("an unknown order says so, and hostile order numbers are escaped on the page", async () => {
      const none = await timelineOf("SO-NOBODY-KNOWS");
      assert.equal(none.order, null);
      assert.match(none.whatNow.text, /No order "SO-NOBODY-KNOWS" is known to the ERP or to the plugin/);
      const page = await dashboard(stack, "?q=SO-NOBODY-KNOWS");
      assert.match(page, /Nothing found/);
      assert.doesNotMatch(page, /Timeline of order/);

      const erp = stack.main.host.erp;
      const hostile = `SO-<script>alert(1)</script>"'7003`;
      const o = await erp.createOrder(newOrder(7003, { number: hostile }));
      await stack.drain();
      const html = await dashboard(stack, `?q=${encodeURIComponent(o.number)}`);
      assert.match(html, /Timeline of order SO-&lt;script&gt;alert\(1\)&lt;\/script&gt;&quot;&#39;7003/);
      assert.ok(!html.includes("<script>"), "no markup from ERP data");
    });
  });
}
