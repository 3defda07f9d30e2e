// Issue #5 acceptance: the CLI's import shows progress and is resumable, on a real database
// with the real import task: `zenflow-erp import-catalog` asks, the running plugin imports,
// the ERP process is stopped half-way and started again, and the CLI follows to the end.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, it } from "node:test";
import { systemClock } from "../../plugin/core/clock";
import { KvStore } from "../../plugin/core/kv-store";
import { readProgress } from "../../plugin/core/runs";
import { PRODUCTS_CURSOR_KEY } from "../../plugin/sync/reconcile-products";
import { newProduct } from "../support/builders";
import { testDbKinds } from "../support/db";
import { eventually, ROOT, startStack } from "../support/stack";

for (const kind of testDbKinds()) {
  describe(`command line import [${kind}]`, () => {
    it("import-catalog shows progress, survives a restart of the ERP process, and ends with every product sent once", async () => {
      const stack = await startStack(kind, {
        sandbox: { limits: { perMinute: 100_000, perHour: 1_000_000, perDay: 10_000_000 } },
        config: { rateLimitPerMinute: 100_000, rateLimitPerHour: 1_000_000, rateLimitPerDay: 10_000_000 },
        plugin: { schedulerTickMs: 200 },
      });
      try {
        const host = stack.main.host;
        await host.disable();
        for (let i = 0; i < 2000; i++) await host.erp.createProduct(newProduct(60_000 + i));
        // A catalog that existed before the plugin was installed: the import's job, not the
        // product reconciliation's (which would send products changed while it was disabled).
        await new KvStore(stack.db.knex, systemClock).set(PRODUCTS_CURSOR_KEY, new Date(Date.now() + 1000).toISOString());
        await host.enable();
        // A slow ZenFlow, so that the import is still running when the process stops.
        stack.sandbox.setFaults({ rate: 1, kinds: ["latency"], latencyMs: 80, path: /products\/bulk/ });
        const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "plugin/cli/main.ts"), "import-catalog"], {
          cwd: ROOT,
          env: { ...process.env, DATABASE_URL: stack.db.url },
          stdio: ["ignore", "pipe", "pipe"],
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += String(d)));
        child.stderr.on("data", (d) => (stderr += String(d)));
        const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
        const bulk = () => stack.sandbox.requests().filter((r) => r.path.endsWith("/products/bulk") && r.status === 200);
        await eventually(() => bulk().length >= 5, 30_000, "import under way");
        await host.disable(); // the ERP process stops mid-import
        const sentBefore = bulk().length;
        // The ERP stays stopped until the CLI has shown where the import stood when it stopped.
        const stoppedAt = (await readProgress(new KvStore(stack.db.knex, systemClock), "import-catalog"))!;
        const shown = new RegExp(`(?<!\\d)${stoppedAt.done}/2000 `);
        await eventually(() => shown.test(stderr), 30_000, `the CLI showing ${stoppedAt.done}/2000 while the ERP is stopped`);
        assert.equal(child.exitCode, null, "the CLI keeps following while the ERP is stopped");
        await host.enable();
        const guard = setTimeout(() => child.kill("SIGKILL"), 60_000);
        const code = await exited.finally(() => clearTimeout(guard));
        assert.equal(code, 0, `CLI exit code (stderr: ${stderr.slice(-500)})`);
        assert.match(stderr, /Catalog import \[#+\.+\] +\d+% \d+\/2000/, "a progress bar with counts");
        assert.match(stdout + stderr, /2000 products checked: 2000 sent/);
        assert.ok(sentBefore < 20, "it really was interrupted half-way");
        const sent = bulk().flatMap((r) => (r.body as { products: { barcode: string }[] }).products.map((p) => p.barcode));
        assert.equal(new Set(sent).size, 2000);
        assert.ok(sent.length <= 2000 + 100, `at most the one interrupted page is sent again (${sent.length} items)`);
      } finally {
        await stack.close();
      }
    });
  });
}
