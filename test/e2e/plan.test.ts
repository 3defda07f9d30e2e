// Issue #13 item 3 acceptance, in a real browser (see test/support/browser.ts): with a backlog
// under a short budget, the dashboard's Next sync line leads to the plan page, which shows per
// kind what is due and held back, the minutes the requests fall in and the create batches,
// while nothing is sent. Once drained, it says so. The screenshot is docs/plan-view.png.
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { DAY, HOUR, MINUTE, windowStart } from "../../plugin/budget/windows";
import { type Clock, systemClock } from "../../plugin/core/clock";
import { utc } from "../../plugin/admin/format";
import { newOrder, newProduct } from "../support/builders";
import { launchChromiumFor } from "../support/browser";
import { testDbKinds } from "../support/db";
import { ROOT, routeAll, startStack } from "../support/stack";

const kind = testDbKinds()[0] ?? "sqlite";

describe(`plan page in a browser [${kind}]`, () => {
  it("shows what the next sync will send and when, sending nothing, and an empty state once all is sent", async () => {
    // Real time, moved once to just after a minute starts: the page's minutes are then known.
    let offset = 0;
    const clock: Clock = { now: () => Date.now() + offset, sleep: systemClock.sleep };
    const stack = await startStack(kind, {
      sandbox: { now: clock.now },
      plugin: { clock, autoStart: false },
      config: { orderBatchSize: 50, rateLimitPerMinute: 10, batchHoldSeconds: 60, stockSource: "erp", locationMap: { main: "LOC-A1" } },
    });
    const { browser } = await launchChromiumFor(stack);
    try {
      const erp = stack.main.host.erp;
      // Already in ZenFlow: 30 products and one order.
      const products = [];
      for (let i = 0; i < 30; i++) products.push(await erp.createProduct(newProduct(930_000 + i, { name: `Yerba mate ${i + 1} kg` })));
      const bound = await erp.createOrder(newOrder(930_001));
      await stack.drain();
      offset = windowStart(Date.now(), MINUTE) + MINUTE + 1_000 - Date.now();

      // The backlog: 120 new orders, an edit of the bound one and 30 stock levels.
      for (let i = 0; i < 120; i++) await erp.createOrder(newOrder(931_000 + i));
      await erp.updateOrder(bound.id, { shipByDate: "2026-05-20" });
      for (const [i, p] of products.entries()) await erp.setStock({ sku: p.sku, locationId: "main", quantity: 10 + i, reason: "count" });
      await routeAll(stack, 151);
      // This minute already used 8 of its 10 requests: the budget is short, partial batches wait.
      const now = clock.now();
      await stack.db.knex("zenflow_budget").update({
        minute_start: windowStart(now, MINUTE),
        minute_used: 8,
        hour_start: windowStart(now, HOUR),
        hour_used: 8,
        day_start: windowStart(now, DAY),
        day_used: 8,
      });
      const oldest = Number((await stack.db.knex("zenflow_outbox").where("status", "pending").min({ t: "run_at" }).first())!.t);
      const mark = stack.sandbox.requests().length;

      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      const host = stack.main.host;
      await page.goto(`${host.url}/admin/login?token=${encodeURIComponent(host.adminToken)}`);
      await page.goto(`${host.url}/admin/plugins/zenflow/`);
      // The held batches leave when their oldest job has waited the 60 s bound.
      const headline = `151 waiting — all sent by ${utc(oldest + 60_000, now)} at the current budget (5 requests)`;
      assert.equal(await page.locator("#next-sync p").first().innerText(), headline);
      await page.getByRole("link", { name: "What will be sent, and when →" }).click();
      await page.waitForURL(/\/zenflow\/plan$/);

      assert.equal(await page.locator("#plan-summary h2").innerText(), headline);
      assert.match(await page.locator("#plan-summary").innerText(), /Nothing is sent by this page\. Rate budget used: 8\/10 this minute/);
      const rows = async (table: string) =>
        page
          .locator(`${table} tbody tr`)
          .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll("th, td")].map((c) => (c as HTMLElement).innerText.trim())));
      const kinds = Object.fromEntries((await rows("#plan-kinds")).map((r) => [r[0], r.slice(1)]));
      const held = `until ${utc(oldest + 60_000, now)}`;
      // due, requests, without request, held back, being sent, not routed yet, later
      // The edit of the bound order never shares a request: it is not held with the 20 new orders.
      assert.deepEqual(kinds.order, ["121", "4", "0", `20 ${held}`, "0", "0", "—"]);
      assert.deepEqual(kinds.stock, ["30", "1", "0", `30 ${held}`, "0", "0", "—"]);
      assert.match(await page.locator("#plan-kinds").innerText(), /waits up to 60 s for more to join it/);

      const requests = await rows("#plan-requests");
      assert.deepEqual(
        requests.filter((r) => r[2] === "POST /orders").map((r) => [r[3], r[4]]),
        [
          ["50", "full batch"],
          ["50", "full batch"],
          ["20", "waited the hold bound"],
        ],
      );
      assert.match(requests.find((r) => r[2] === "POST /orders")![5]!, /^SO-T-931000, SO-T-931001, .* … \(\+45\)$/);
      assert.deepEqual(
        requests.filter((r) => r[2] === "PUT /orders/:id").map((r) => [r[3], r[4], r[5]]),
        [["1", "a request of its own: never held", "SO-T-930001"]],
      );
      const minutes = await rows("#plan-windows");
      assert.deepEqual(
        minutes.map((r) => [r[0], r.at(-2), r.at(-1)]),
        [
          [utc(windowStart(now, MINUTE), now), "2", "2"],
          [utc(windowStart(now, MINUTE) + MINUTE, now), "3", "5"],
        ],
      );
      assert.equal(stack.sandbox.requests().length, mark, "looking at the plan sent nothing");
      await page.screenshot({ path: join(ROOT, "docs", "plan-view.png"), fullPage: true });

      // The budget is free again; once everything is sent the page says so.
      await stack.db.knex("zenflow_budget").update({ minute_used: 0 });
      await stack.drain();
      assert.equal(stack.sandbox.orders().length, 121);
      await page.getByRole("link", { name: "Refresh" }).click();
      await page.locator("#plan-summary h2", { hasText: "Nothing waiting: ZenFlow has everything." }).waitFor();
      assert.equal(await page.locator("#plan-requests").count(), 0);
      await context.close();
    } finally {
      await browser.close();
      await stack.close();
    }
  });
});
