// Issue #13 item 4 acceptance, in a real browser (see test/support/browser.ts): after the
// drift guard stopped a full sync, the dashboard's Stock drift page says why, makes a new
// report on a click, lists exactly the differing levels and downloads them as CSV. The
// screenshot is docs/stock-drift.png (shown in the README).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { readProgress } from "../../plugin/core/runs";
import { newProduct } from "../support/builders";
import { launchChromiumFor } from "../support/browser";
import { testDbKinds } from "../support/db";
import { eventually, ROOT, startStack } from "../support/stack";

const kind = testDbKinds()[0] ?? "sqlite";
const CONFIG = {
  locationMap: { main: "LOC-A1" },
  stockSource: "erp",
  stockSyncDriftGuard: true,
  stockSyncDriftMaxLevels: 1,
  stockSyncDriftMaxPercent: 100,
};

describe(`stock drift page in a browser [${kind}]`, () => {
  it("says why the full sync stopped, makes a report on a click, lists the differing levels and downloads them as CSV", async () => {
    const stack = await startStack(kind, { config: CONFIG, plugin: { autoStart: false } });
    const { browser } = await launchChromiumFor(stack);
    try {
      const erp = stack.main.host.erp;
      const products = [];
      for (let i = 0; i < 5; i++) products.push(await erp.createProduct(newProduct(62_000 + i, { name: `Yerba mate ${i + 1} kg` })));
      await stack.drain();
      for (const [i, p] of products.entries())
        await erp.setStock({ sku: p.sku, locationId: "main", quantity: 10 * (i + 1), reason: "count" });
      await stack.drain();
      // Counted in the warehouse: two levels changed in ZenFlow.
      stack.sandbox.setStock({ sku: products[1]!.sku }, "LOC-A1", 17);
      stack.sandbox.setStock({ sku: products[3]!.sku }, "LOC-A1", 0);
      const runtime = stack.main.plugin.runtime()!;
      assert.equal(await runtime.engine!.scheduler.runTask("sync-stock"), "ran");
      assert.equal((await readProgress(runtime.parts.state, "sync-stock"))?.status, "stopped");

      const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
      const page = await context.newPage();
      const host = stack.main.host;
      await page.goto(`${host.url}/admin/login?token=${encodeURIComponent(host.adminToken)}`);
      await page.goto(`${host.url}/admin/plugins/zenflow/`);
      await page.getByRole("link", { name: "Stock drift" }).click();
      await page.waitForURL(/\/zenflow\/drift$/);
      assert.match(
        await page.locator("#sync-stopped").innerText(),
        /Full stock sync stopped: 2 of 5 levels differ \(40%\) > 1 allowed: review the drift report, then run 'sync-stock-anyway'/,
      );
      assert.match(await page.locator("#drift-summary").innerText(), /by the full stock sync the drift guard stopped/);

      // A third level changes; a new report (which writes nothing) shows it too.
      stack.sandbox.setStock({ sku: products[4]!.sku }, "LOC-A1", 49);
      const before = stack.sandbox.requests().length;
      await page.getByRole("button", { name: "Make a new report" }).click();
      await page.waitForURL(/drift\?flash=/);
      assert.match(await page.locator(".flash").innerText(), /A new drift report was requested/);
      await eventually(async () => (await readProgress(runtime.parts.state, "stock-drift"))?.status === "done", 20_000, "report done");
      await page.getByRole("link", { name: "Refresh" }).click();
      await page.locator("#drift-summary h2", { hasText: "3 of 5 levels differ (60%)" }).waitFor();
      assert.deepEqual(
        [
          ...new Set(
            stack.sandbox
              .requests()
              .slice(before)
              .map((r) => r.method),
          ),
        ],
        ["GET"],
        "the report only reads ZenFlow",
      );
      const cells = await page
        .locator("#drift-rows tbody tr")
        .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent?.trim())));
      assert.deepEqual(
        cells.map((c) => [c[0], c[3], c[4], c[5], c[8]]),
        [
          [products[1]!.sku, "20", "17", "3", "ERP → ZenFlow"],
          [products[3]!.sku, "40", "0", "40", "ERP → ZenFlow"],
          [products[4]!.sku, "50", "49", "1", "ERP → ZenFlow"],
        ],
      );
      await page.screenshot({ path: join(ROOT, "docs", "stock-drift.png"), fullPage: true });

      const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Download CSV" }).click()]);
      assert.match(download.suggestedFilename(), /^zenflow-stock-drift-\d{8}T\d{4}Z\.csv$/);
      const csv = readFileSync((await download.path())!, "utf8")
        .replace(/^\ufeff/, "")
        .split("\r\n");
      assert.equal(csv.length, 5, "header, 3 rows, final line break");
      assert.match(csv[1]!, new RegExp(`^${products[1]!.sku},main,LOC-A1,20,17,3,[^,]*,[^,]*,ERP → ZenFlow$`));
      // ERP levels are as they were: nothing was written.
      assert.equal(await erp.getStock(products[1]!.sku, "main"), 20);
      await context.close();
    } finally {
      await browser.close();
      await stack.close();
    }
  });
});
