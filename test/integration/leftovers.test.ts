// Issue #10 item 10, besides the purges (housekeeping.test.ts): the dashboard reads only the
// columns it shows (not up to 100 webhook payloads of 1 MB), two processes activating at once
// agree on one webhook path token, and a cron setting that would never run is refused.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { systemClock } from "../../plugin/core/clock";
import { parseConfig } from "../../plugin/core/config";
import { KvStore } from "../../plugin/core/kv-store";
import { webhookToken } from "../../plugin/webhooks/registration";
import { testDbKinds } from "../support/db";
import { SANDBOX_KEY, startStack, type Stack } from "../support/stack";
import { dashboard } from "../support/admin";

describe("cron settings", () => {
  it("are checked with croner: an expression that never fires is refused, naming the setting", () => {
    const table: [string, boolean][] = [
      ["0 3 * * *", true],
      ["*/15 * * * *", true],
      ["0 0 * * 1-5", true],
      ["99 * * * *", false],
      ["0 25 * * *", false],
      ["0 0 31 2 *", false],
      ["* * * *", false],
      ["every day", false],
    ];
    for (const [cron, ok] of table) {
      const r = parseConfig({ apiKey: SANDBOX_KEY, stockFullSyncCron: cron });
      assert.equal(r.ok, ok, cron);
      if (!r.ok) assert.match(r.reason, /Full stock sync schedule/);
    }
  });
});

for (const kind of testDbKinds()) {
  describe(`leftovers [${kind}]`, () => {
    let stack: Stack;
    before(async () => {
      stack = await startStack(kind, { plugin: { autoStart: false } });
    });
    after(async () => stack?.close());

    it("the dashboard lists webhook dead letters without reading their payloads", async () => {
      const now = Date.now();
      await stack.db.knex("zenflow_inbox").insert(
        Array.from({ length: 5 }, (_, i) => ({
          event_id: `evt_dead_big_${i}`,
          event: "order/updated",
          kind: "order",
          payload: JSON.stringify({ pad: "x".repeat(200_000) }),
          status: "dead",
          priority: 1,
          attempts: 1,
          run_at: now,
          last_error: "the ERP refused it",
          created_at: now,
          updated_at: now,
          finished_at: now,
        })),
      );
      const queries: string[] = [];
      const listen = (q: { sql: string }) => queries.push(q.sql);
      // The plugin's own handle on the database (the host's, or a share of its pool).
      const pluginDb = stack.main.plugin.runtime()!.parts.db;
      pluginDb.on("query", listen);
      try {
        const page = await dashboard(stack);
        assert.match(page, /evt_dead_big_4/);
      } finally {
        pluginDb.off("query", listen);
      }
      const deadReads = queries.filter((q) => /zenflow_(inbox|outbox)/.test(q) && /'dead'|status. = \?/.test(q) && /order by/i.test(q));
      assert.ok(deadReads.length >= 2, queries.join("\n"));
      for (const q of deadReads) assert.ok(!/select \*/i.test(q) && !/payload/.test(q), q);
    });

    it("two processes creating the webhook path token at once agree on one", async () => {
      const a = stack.db.connect();
      const b = kind === "mariadb" ? stack.db.connect() : a;
      await stack.db.knex("zenflow_state").where({ key: "webhook:token" }).delete();
      const tokens = await Promise.all(Array.from({ length: 8 }, (_, i) => webhookToken(new KvStore(i % 2 ? a : b, systemClock))));
      assert.equal(new Set(tokens).size, 1, tokens.join(" "));
      assert.equal(tokens[0], await webhookToken(new KvStore(stack.db.knex, systemClock)));
    });
  });
}
