// The plugin as a package: `npm pack` output installed into an empty folder (its
// dependencies and peers from npm's cache, the registry only for what the cache lacks) loads
// in the reference host from that folder, runs its migrations and sends an order to ZenFlow.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startHost } from "../../dev/host";
import { startSandbox } from "../../dev/sandbox";
import { newOrder } from "../support/builders";
import { createTestDb, testDbKinds } from "../support/db";
import { eventually, ROOT, SANDBOX_KEY } from "../support/stack";

const npm = process.platform === "win32" ? "npm.cmd" : "npm";

describe("the npm package", () => {
  let dir: string;
  let installed: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "zenflow-pack-"));
    execFileSync(npm, ["pack", "--ignore-scripts", "--silent", "--pack-destination", dir], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "inherit"],
    });
    const tarball = readdirSync(dir).find((f) => f.endsWith(".tgz"));
    assert.ok(tarball, "npm pack wrote no tarball");
    const app = join(dir, "app");
    execFileSync("mkdir", ["-p", app]);
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "empty-host-app", version: "1.0.0", private: true }));
    execFileSync(
      npm,
      ["install", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error", join(dir, tarball)],
      {
        cwd: app,
        stdio: ["ignore", "inherit", "inherit"],
      },
    );
    installed = join(app, "node_modules", "zenflow-erp-plugin");
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("has the manifest, the entry, the contract's types and no sources or tests", () => {
    const pkg = JSON.parse(readFileSync(join(installed, "package.json"), "utf8")) as Record<string, unknown>;
    assert.equal(pkg.private, undefined);
    for (const f of [
      "manifest.json",
      "dist/plugin/entry.js",
      "dist/plugin/entry.d.ts",
      "dist/plugin/core/host-api.d.ts",
      "dist/migrations",
    ]) {
      assert.ok(existsSync(join(installed, f)), `${f} is missing from the package`);
    }
    for (const f of ["plugin", "test", "dev", "adapters"]) assert.ok(!existsSync(join(installed, f)), `${f}/ should not be packed`);
    // The host brings express and knex (peers, installed next to it by npm).
    assert.ok(existsSync(join(installed, "..", "express")) && existsSync(join(installed, "..", "knex")));
  });

  it("loads in the reference host from the installed folder and sends an order", async () => {
    const db = await createTestDb(testDbKinds()[0] ?? "sqlite");
    const sandbox = await startSandbox({});
    const host = await startHost({
      db: db.knex,
      pluginDir: installed,
      adminToken: "pack-test-token",
      secretKey: "pack-test-secret",
      configPollMs: 100,
      healthPollMs: 3_600_000,
    });
    try {
      await host.install();
      assert.ok(await db.knex.schema.hasTable("zenflow_outbox"), "the package's migrations ran");
      const saved = await host.saveConfig({ apiKey: SANDBOX_KEY, baseUrl: sandbox.url, batchWindowMs: 5 });
      assert.ok(saved.ok, JSON.stringify(saved));
      await host.enable();
      const order = await host.erp.createOrder(newOrder(9100));
      await eventually(() => sandbox.order(order.number), 15_000, "the order in ZenFlow");
    } finally {
      await host.close();
      await sandbox.close();
      await db.destroy();
    }
  });
});
