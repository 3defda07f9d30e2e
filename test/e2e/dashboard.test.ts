// Issue #5 acceptance, in a real browser (Chromium driven by playwright-core; Debian's, or the
// one the @sparticuz/chromium package ships, see test/support/browser.ts): the
// dashboard shows a dead letter caused by a permanent ZenFlow rejection; once the cause is
// fixed, clicking Retry delivers the order (asserted in the sandbox), and the order's lookup
// shows its timeline. Screenshots are saved to test-artifacts/ (git-ignored; docs/ holds
// copies of dashboard.png and order-timeline.png).
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { writeProgress } from "../../plugin/core/runs";
import { newOrder } from "../support/builders";
import { launchChromiumFor } from "../support/browser";
import { testDbKinds } from "../support/db";
import { addSandboxProduct, ROOT, startStack } from "../support/stack";

const ARTIFACTS = join(ROOT, "test-artifacts");
const STOCKED = "7793000000011";
const UNKNOWN = "7793000000998";

const kind = testDbKinds()[0] ?? "sqlite";

describe(`dashboard in a browser [${kind}]`, () => {
  it("shows a dead letter with ZenFlow's message; Retry after the fix delivers the order", async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const stack = await startStack(kind, { sandbox: { strictBarcodes: true }, plugin: { autoStart: false } });
    const { browser } = await launchChromiumFor(stack);
    try {
      const erp = stack.main.host.erp;
      await addSandboxProduct(stack, STOCKED, "Yerba mate 1 kg", `WH-${STOCKED}`);
      const line = (barcode: string, i: number) => [{ sku: `MATE-${i}`, barcode, quantity: 2, unitPrice: "12.50" }];
      for (let i = 1; i <= 3; i++) await erp.createOrder(newOrder(7000 + i, { items: line(STOCKED, i) }));
      // ZenFlow refuses this one for good: it does not know the product (validation_error).
      const bad = await erp.createOrder(newOrder(7100, { items: line(UNKNOWN, 9) }));
      await stack.drain();
      assert.equal(stack.sandbox.order(bad.number), undefined);
      // A catalog import in progress, as the import task (issue #3) records it.
      const now = Date.now();
      await writeProgress(stack.main.plugin.runtime()!.parts.state, "import-catalog", {
        status: "running",
        startedAt: now - 4 * 60_000,
        updatedAt: now,
        done: 1200,
        total: 2000,
        errors: 3,
        etaMs: 160_000,
      });

      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      const host = stack.main.host;
      // Signing in through the host sets its admin cookie.
      await page.goto(`${host.url}/admin/login?token=${encodeURIComponent(host.adminToken)}`);
      const res = await page.goto(`${host.url}/admin/plugins/zenflow`);
      assert.equal(res?.status(), 200);
      assert.ok(page.url().endsWith("/admin/plugins/zenflow/"), page.url());

      const row = page.locator("#dead-letters tr", { hasText: bad.number });
      await row.getByText(`Unknown barcode ${UNKNOWN}`).waitFor();
      assert.match(await page.locator(".health").innerText(), /Needs attention/);
      await page.screenshot({ path: join(ARTIFACTS, "dashboard.png"), fullPage: true });

      await addSandboxProduct(stack, UNKNOWN, "Bombilla", `WH-${UNKNOWN}`);
      await row.getByRole("button", { name: `Retry ${bad.number}` }).click();
      await page.waitForURL(/\?flash=/);
      assert.match(
        await page.locator(".flash").innerText(),
        new RegExp(`Retrying ${bad.number} \\(outbox:\\d+\\): it is queued to be sent now`),
      );

      await stack.drain();
      const delivered = stack.sandbox.order(bad.number);
      assert.ok(delivered, "the retried order is in ZenFlow");
      assert.deepEqual(
        delivered.order_detail.map((l) => l.barcode),
        [UNKNOWN],
      );
      const job = await stack.db.knex("zenflow_outbox").where({ erp_ref: bad.number }).first();
      assert.equal(job.status, "done");

      // The lookup tells that order's story: refused, retried by the admin, sent (#13 item 5).
      await page.goto(`${host.url}/admin/plugins/zenflow/?q=${encodeURIComponent(bad.number)}`);
      const timeline = page.locator("#timeline");
      await timeline.getByText(`Timeline of order ${bad.number}`).waitFor();
      assert.match(await timeline.locator(".what-now").innerText(), new RegExp(`What now: In ZenFlow as order ${delivered.id}`));
      const steps = await timeline.locator("tbody tr td:nth-last-child(3)").allInnerTexts();
      for (const step of ["ERP change reached the plugin", "Dead letter", "Sent to ZenFlow"])
        assert.ok(steps.includes(step), steps.join(" | "));
      await page.locator("#lookup").screenshot({ path: join(ARTIFACTS, "order-timeline.png") });

      await page.goto(`${host.url}/admin/plugins/zenflow/`);
      await page.getByText("None: every change either reached ZenFlow or is still being tried.").waitFor();
      assert.match(await page.locator(".health").innerText(), /OK/);
      await page.screenshot({ path: join(ARTIFACTS, "dashboard-after-retry.png"), fullPage: true });
      await context.close();
    } finally {
      await browser.close();
      await stack.close();
    }
  });
});
