// Issue #10 item 8: what reaches a person. `zenflow-erp status` writes ERP strings with their
// control characters made visible, never executed by the terminal; a database error is
// logged and shown as its code and table, never the statement with its values (customer data
// in a webhook payload, a lookup's query).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { runCli } from "../../plugin/cli/main";
import { testDbKinds } from "../support/db";
import { newOrder } from "../support/builders";
import { routeAll, startStack, type Stack } from "../support/stack";
import { envelope, webhookClient } from "../support/webhooks";
import { admin } from "../support/admin";

const TERMINAL_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

for (const kind of testDbKinds()) {
  describe(`what people see [${kind}]`, () => {
    let stack: Stack;
    before(async () => {
      stack = await startStack(kind, { plugin: { autoStart: false } });
    });
    after(async () => stack?.close());

    it("zenflow-erp status shows ERP strings with escape sequences, CR, BEL and bidi overrides neutralised", async () => {
      const hostile = [
        "SO-\u001b[2J\u001b[H cleared",
        "SO-\u001b]0;pwned\u0007 title",
        "SO-\r overwritten",
        "SO-\u202eevil",
        "SO-\u009b31m C1",
      ];
      const now = Date.now();
      for (const [i, ref] of hostile.entries())
        await stack.db.knex("zenflow_outbox").insert({
          kind: "order",
          entity_key: `order:hostile-${i}`,
          erp_ref: ref,
          payload: "{}",
          status: "dead",
          priority: 1,
          attempts: 1,
          run_at: now,
          last_error: `${ref}: ZenFlow said \u001b[31mno\u001b[0m\nsecond line`,
          last_error_code: "rejected",
          created_at: now,
          updated_at: now,
          finished_at: now,
        });
      let out = "";
      const code = await runCli(["status"], {
        out: (t) => (out += t),
        err: { write: (t: string) => void (out += t), isTTY: false },
        env: { DATABASE_URL: stack.db.url },
      });
      assert.equal(code, 1);
      for (const line of out.split("\n")) assert.ok(!TERMINAL_CONTROL.test(line), JSON.stringify(line));
      assert.match(out, /SO-\?\[2J\?\[H cleared/);
      assert.match(out, /SO-\?evil/);
      await stack.db.knex("zenflow_outbox").where("entity_key", "like", "order:hostile-%").delete();
    });

    it("a database error is logged by code and table: the webhook payload it was storing does not appear", async () => {
      const hook = await webhookClient(stack);
      const customer = "Juana Secreta de la Calle Privada 123";
      await stack.db.knex.schema.renameTable("zenflow_inbox", "zenflow_inbox_away");
      try {
        const r = await hook.signed(envelope("order/updated", { order_id: 1, order_tenant_id: "SO-DBERR", customer_name: customer }));
        assert.equal(r.status, 503);
      } finally {
        await stack.db.knex.schema.renameTable("zenflow_inbox_away", "zenflow_inbox");
      }
      const logged = stack.main.log.lines.filter((l) => /could not store a ZenFlow webhook/.test(l.text));
      assert.equal(logged.length, 1);
      assert.ok(!stack.main.log.dump().includes(customer), "no customer data in the logs");
      assert.match(logged[0]!.text, /database error \S+ on zenflow_inbox/);
    });

    it("the dashboard's error page names the database error, not the statement's values", async () => {
      const secret = "LOOKUP-VALUE-7f3a";
      await stack.db.knex.schema.renameTable("zenflow_id_map", "zenflow_id_map_away");
      try {
        const res = await admin(stack, `/?q=${secret}`);
        assert.equal(res.status, 500);
        const page = await res.text();
        assert.match(page, /database error \S+ on zenflow_id_map/);
        assert.ok(!page.includes(secret), "the query's value is not on the page");
        assert.ok(!page.toLowerCase().includes("select "), "no SQL on the page");
      } finally {
        await stack.db.knex.schema.renameTable("zenflow_id_map_away", "zenflow_id_map");
      }
      assert.ok(!stack.main.log.dump().includes(secret), "nor in the logs");
    });

    it("the plan page escapes ERP order numbers, and a plan that fails shows the database error, not the statement", async () => {
      const hostile = `SO-<img src=x onerror=alert(1)>"'`;
      await stack.main.host.erp.createOrder(newOrder(9901, { number: hostile }));
      await routeAll(stack, 1);
      const page = await (await admin(stack, "/plan")).text();
      assert.ok(!page.includes("<img"), "no markup from the ERP");
      assert.ok(page.includes("SO-&lt;img src=x onerror=alert(1)&gt;&quot;&#39;"), "the order number, escaped");

      await stack.db.knex.schema.renameTable("zenflow_outbox", "zenflow_outbox_away");
      try {
        const res = await admin(stack, "/plan");
        assert.equal(res.status, 200);
        const failed = await res.text();
        assert.match(failed, /The plan could not be computed: database error \S+ on zenflow_outbox/);
        assert.ok(!failed.toLowerCase().includes("select "), "no SQL on the page");
        assert.doesNotMatch(failed, /:\d+:\d+\)/, "no stack trace");
      } finally {
        await stack.db.knex.schema.renameTable("zenflow_outbox_away", "zenflow_outbox");
      }
      await stack.db.knex("zenflow_outbox").where({ status: "pending" }).update({ status: "discarded", active_key: null });
    });
  });
}
