// Lifecycle (contract section 2): migrations on enable, rollback on uninstall with dropData,
// deactivate with a deadline, events during deactivate, health and actions.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { ErpPlugin } from "../../plugin/core/host-api";
import { createTestDb, testDbKinds, type TestDb } from "../support/db";
import { createFixturePlugin, sampleOrder, startTestHost, waitFor } from "./helpers";

for (const kind of testDbKinds()) {
  describe(`plugin lifecycle (${kind})`, () => {
    let db: TestDb;
    before(async () => {
      db = await createTestDb(kind);
    });
    after(async () => {
      await db.destroy();
    });

    test("enable runs the migrations and activates once; uninstall with dropData rolls them back", async () => {
      const { host, plugin } = await startTestHost(db.knex);
      try {
        assert.equal(await db.knex.schema.hasTable("hostfix_seen"), false);
        await host.enable();
        await host.enable(); // idempotent
        assert.equal(plugin.state.activations, 1);
        assert.equal(await db.knex.schema.hasTable("hostfix_seen"), true);
        assert.equal(Number(((await db.knex("hostfix_migrations").count({ n: "*" })) as { n: number | string }[])[0]?.n), 1);
        assert.equal(host.ctx.id, "hostfix");
        assert.equal(host.ctx.version, "1.2.3");
        assert.equal(host.ctx.db, host.db);

        const firstSignal = host.ctx.signal;
        await host.disable();
        assert.equal(plugin.state.deactivations, 1);
        assert.equal(firstSignal.aborted, true, "the signal is aborted when deactivation starts");

        await host.enable();
        assert.equal(plugin.state.activations, 2);
        assert.notEqual(host.ctx.signal, firstSignal, "every activation gets a fresh signal");
        assert.equal(host.ctx.signal.aborted, false);

        await host.saveConfig({ apiKey: "k-12345678" });
        await host.uninstall(); // keeps data
        assert.equal(plugin.state.deactivations, 2);
        assert.equal(plugin.state.uninstalled, 1);
        assert.equal(await db.knex.schema.hasTable("hostfix_seen"), true);
        assert.equal(((await db.knex("erp_plugin_config").where({ plugin_id: "hostfix" })) as unknown[]).length, 1);

        await host.enable();
        await host.uninstall({ dropData: true });
        assert.equal(plugin.state.uninstalled, 2);
        assert.equal(await db.knex.schema.hasTable("hostfix_seen"), false);
        assert.equal(await db.knex.schema.hasTable("hostfix_migrations"), false);
        assert.equal(((await db.knex("erp_plugin_config").where({ plugin_id: "hostfix" })) as unknown[]).length, 0);
        assert.equal(host.state, "loaded");

        // Installing again works from scratch.
        await host.enable();
        assert.equal(await db.knex.schema.hasTable("hostfix_seen"), true);
      } finally {
        await host.close();
      }
      assert.equal(plugin.state.deactivations, 4, "close() deactivates an enabled plugin");
    });

    test("events are still delivered while deactivate() runs, and not after", async () => {
      const plugin = createFixturePlugin({ deactivateDelayMs: 300 });
      const { host } = await startTestHost(db.knex, { plugin });
      try {
        await host.enable();
        const disabling = host.disable();
        await waitFor(() => plugin.state.deactivations === 1, 2000, "deactivate() to start");
        await host.erp.createOrder(sampleOrder(1));
        assert.equal(plugin.state.eventsDuringDeactivate, 1);
        await disabling;
        const before = plugin.state.events.length;
        await host.erp.createOrder(sampleOrder(2));
        assert.equal(plugin.state.events.length, before, "unsubscribed after deactivate() completed");
      } finally {
        await host.close();
      }
    });

    test("deactivate() that never settles is cut off at the deadline and the plugin is unhooked", async () => {
      const plugin = createFixturePlugin();
      plugin.deactivate = () => new Promise<void>(() => undefined);
      const { host, log } = await startTestHost(db.knex, { plugin, deactivateTimeoutMs: 200 });
      try {
        await host.enable();
        const started = Date.now();
        await host.disable();
        const took = Date.now() - started;
        assert.ok(took >= 190 && took < 2000, `disable took ${took} ms`);
        assert.equal(log.find("error", /deactivate\(\) failed or timed out/).length, 1);
        const before = plugin.state.events.length;
        await host.erp.createOrder(sampleOrder(3));
        assert.equal(plugin.state.events.length, before);
      } finally {
        await host.close();
      }
    });

    test("an activate() that throws makes enable() fail and leaves nothing hooked", async () => {
      const plugin = createFixturePlugin();
      const realActivate = plugin.activate.bind(plugin);
      plugin.activate = async (ctx) => {
        await realActivate(ctx);
        throw new Error("cannot start");
      };
      const { host, log } = await startTestHost(db.knex, { plugin });
      try {
        await assert.rejects(host.enable(), /cannot start/);
        assert.equal(host.state, "installed");
        assert.equal(log.find("error", /activate\(\) failed/).length, 1);
        await host.erp.createOrder(sampleOrder(4));
        assert.equal(plugin.state.events.length, 0);
      } finally {
        await host.close();
      }
    });

    test("close() waits for a health check in progress, so plugin.health() never runs on after the host has closed", async () => {
      const plugin = createFixturePlugin();
      const events: string[] = [];
      let reached!: () => void;
      let answer!: () => void;
      let answered!: () => void;
      const inHealth = new Promise<void>((r) => (reached = r));
      const mayAnswer = new Promise<void>((r) => (answer = r));
      const healthDone = new Promise<void>((r) => (answered = r));
      plugin.health = async () => {
        reached();
        await mayAnswer;
        events.push("health answered");
        answered();
        return { status: "ok", message: "ok" };
      };
      const { host } = await startTestHost(db.knex, { plugin });
      try {
        await host.enable(); // the first health check starts right away
        await inHealth;
        const closing = host.close().then(() => void events.push("close returned"));
        // Answered only once everything close() does without waiting has happened.
        setImmediate(answer);
        await closing;
        await healthDone;
        assert.deepEqual(events, ["health answered", "close returned"]);
      } finally {
        answer();
        await host.close();
      }
    });

    test("health() and actions", async () => {
      const { host } = await startTestHost(db.knex, { healthPollMs: 20 });
      try {
        assert.deepEqual(await host.health(), { status: "down", message: "plugin is not enabled" });
        assert.deepEqual(await host.runAction("ping"), { ok: false, message: "the plugin is not enabled" });
        await host.enable();
        assert.equal((await host.health()).status, "unconfigured");
        await host.saveConfig({ apiKey: "k-12345678" });
        assert.deepEqual(await host.health(), { status: "ok", message: "connected to https://api.example.test" });

        assert.deepEqual(await host.runAction("ping", { a: 1 }), { ok: true, message: "pong from hostfix", details: { input: { a: 1 } } });
        assert.deepEqual(await host.runAction("explode"), { ok: false, message: "action exploded" });
        assert.equal((await host.runAction("nope")).ok, false);

        // A plugin without health() is "ok"; one whose health() throws is "down".
        const bare: ErpPlugin = {
          async activate() {},
          async deactivate() {},
          actions: { ping: async () => ({ ok: true, message: "" }), explode: async () => ({ ok: true, message: "" }) },
        };
        const { host: other } = await startTestHost(db.knex, { plugin: bare });
        try {
          await other.enable();
          assert.equal((await other.health()).status, "ok");
          bare.health = async () => {
            throw new Error("no idea");
          };
          assert.deepEqual(await other.health(), { status: "down", message: "health() failed: no idea" });
        } finally {
          await other.close();
        }
      } finally {
        await host.close();
      }
    });
  });
}
