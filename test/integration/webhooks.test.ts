// Issue #4 acceptance: ZenFlow's order (and stock) changes reach the ERP through signed
// webhooks — every answer code, forgeries and replays change nothing, ordering holds.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { sign } from "../../plugin/webhooks/signature";
import { entityKey } from "../../plugin/jobs/keys";
import { readRegistration } from "../../plugin/webhooks/registration";
import { open } from "../../plugin/webhooks/secret-box";
import { envelope, webhookClient, type Hook } from "../support/webhooks";
import { newOrder } from "../support/builders";
import { testDbKinds } from "../support/db";
import { fastClock } from "../support/fast-clock";
import { startStack, type Stack } from "../support/stack";

for (const kind of testDbKinds()) {
  describe(`webhooks [${kind}]`, () => {
    let stack: Stack;
    let hook: Hook;
    // Real time, until a test moves it on (the receiver's credential cache expiring).
    const clock = fastClock();
    const inboxWorker = () => stack.main.plugin.runtime()!.engine!.inboxWorker;
    const drainAll = async () => {
      await stack.sandbox.idle();
      await stack.drain();
      await inboxWorker().drain();
    };
    before(async () => {
      stack = await startStack(kind, { plugin: { autoStart: false, clock } });
      hook = await webhookClient(stack);
    });
    after(async () => stack?.close());

    it("keeps exactly one subscription for our unguessable URL, with the secret sealed at rest", async () => {
      const subs = stack.sandbox.webhooks();
      assert.equal(subs.length, 1);
      assert.equal(subs[0]!.url, hook.url);
      assert.deepEqual([...subs[0]!.events].sort(), ["order/cancelled", "order/completed", "order/updated"]);
      assert.match(hook.url, /\/plugins\/zenflow\/webhooks\/[A-Za-z0-9_-]{32}$/);
      const stored = JSON.stringify(await stack.db.knex("zenflow_state").select());
      assert.ok(!stored.includes(hook.secret), "secret stored in clear");
      // Running the check again (any process, any time) keeps it.
      assert.equal(await stack.main.plugin.runtime()!.engine!.scheduler.runTask("webhook-subscription"), "ran");
      assert.equal(stack.sandbox.webhooks().length, 1);
    });

    it("picking, packing and shipping with tracking reach the ERP order; nothing echoes back", async () => {
      const erp = stack.main.host.erp;
      const o = await erp.createOrder(newOrder(5001));
      await drainAll();
      const before = stack.sandbox.requests().length;
      stack.sandbox.advanceOrder(o.number, "In Progress");
      await drainAll();
      assert.equal((await erp.getOrder(o.id))!.status, "picking");
      stack.sandbox.advanceOrder(o.number, "Packed");
      await drainAll();
      assert.equal((await erp.getOrder(o.id))!.status, "ready_to_ship");
      stack.sandbox.advanceOrder(o.number, "Completed", { trackingNumber: "TRK-5001", carrier: "Andreani" });
      await drainAll();
      assert.equal((await erp.getOrder(o.id))!.status, "shipped");
      const ship = await erp.shipment(o.id);
      assert.equal(ship?.trackingNumber, "TRK-5001");
      assert.equal(ship?.carrier, "Andreani");
      // The ERP changes we made come back as events with our origin: none may reach ZenFlow.
      const after = stack.sandbox.requests().slice(before);
      assert.deepEqual(
        after.map((r) => `${r.method} ${r.path}`),
        [],
      );
    });

    it("a cancellation in ZenFlow cancels the ERP order and is not sent back", async () => {
      const erp = stack.main.host.erp;
      const o = await erp.createOrder(newOrder(5002));
      await drainAll();
      stack.sandbox.advanceOrder(o.number, "Cancelled", { reason: "out of stock" });
      await drainAll();
      const got = (await erp.getOrder(o.id))!;
      assert.equal(got.status, "cancelled");
      assert.equal(stack.sandbox.requests().filter((r) => r.path.endsWith("/cancel")).length, 0);
      const history = await erp.history(o.id);
      assert.ok(JSON.stringify(history).includes("out of stock"), JSON.stringify(history));
    });

    it("answers each failure with the right status and stores nothing", async () => {
      const count = async () => Number((await stack.db.knex("zenflow_inbox").count({ n: "*" }))[0]!.n);
      const start = await count();
      const good = JSON.stringify(envelope("order/updated", { order_id: 1, order_tenant_id: "X", state_id: 2, state_name: "In Progress" }));
      assert.equal((await hook.post(good)).status, 401, "missing signature");
      assert.equal((await hook.post(good, { "X-ZenFlow-Signature": sign("whsec_wrong", good) })).status, 401, "wrong secret");
      assert.equal((await hook.post(good, { "X-ZenFlow-Signature": "sha256=zz" })).status, 401, "garbage signature");
      assert.equal(
        (await hook.post(good, { "X-ZenFlow-Signature": sign(hook.secret, good) }, hook.url.replace(/[^/]+$/, "wrong-token"))).status,
        404,
        "wrong token",
      );
      const notJson = "{not json";
      assert.equal((await hook.post(notJson, { "X-ZenFlow-Signature": sign(hook.secret, notJson) })).status, 400, "malformed JSON");
      const noEnvelope = JSON.stringify({ hello: "world" });
      assert.equal((await hook.post(noEnvelope, { "X-ZenFlow-Signature": sign(hook.secret, noEnvelope) })).status, 400, "not an envelope");
      const huge = Buffer.alloc(1024 * 1024 + 10, 0x20);
      assert.equal((await hook.post(huge, { "X-ZenFlow-Signature": sign(hook.secret, huge) })).status, 413, "too large");
      assert.equal(await count(), start, "nothing stored");

      // The bare hex and base64 forms of the same HMAC are accepted too.
      const hex = sign(hook.secret, good).slice(7);
      assert.equal((await hook.post(good, { "X-ZenFlow-Signature": hex })).status, 200);
      const b64body = JSON.stringify(envelope("flow/started", { flow_id: 1 }));
      const b64 = Buffer.from(sign(hook.secret, b64body).slice(7), "hex").toString("base64");
      const unknown = await hook.post(b64body, { "X-ZenFlow-Signature": b64 });
      assert.deepEqual([unknown.status, unknown.json.ignored], [200, true], "unknown event: 200 and ignored");
    });

    it("a duplicate delivery answers 200 and is applied once; a replay of an old event changes nothing", async () => {
      const erp = stack.main.host.erp;
      const o = await erp.createOrder(newOrder(5003));
      await drainAll();
      const z = stack.sandbox.order(o.number)!;
      const packed = envelope("order/updated", {
        order_id: z.id,
        order_tenant_id: o.number,
        state_id: 3,
        state_name: "Packed",
        updated_at: "2026-11-28T10:00:00Z",
      });
      assert.equal((await hook.signed(packed)).status, 200);
      const dup = await hook.signed(packed);
      assert.deepEqual([dup.status, dup.json.duplicate], [200, true]);
      await inboxWorker().drain();
      assert.equal((await erp.getOrder(o.id))!.status, "ready_to_ship");
      const applied = await stack.db
        .knex("zenflow_history")
        .where({ kind: "order", outcome: "applied" })
        .andWhere("message", "like", `%${o.number}%`);
      assert.equal(applied.length, 1, "applied once");
      // An earlier state, even freshly signed with a new event id, does not move the order back.
      const older = envelope("order/updated", {
        order_id: z.id,
        order_tenant_id: o.number,
        state_id: 2,
        state_name: "In Progress",
        updated_at: "2026-11-28T09:00:00Z",
      });
      assert.equal((await hook.signed(older)).status, 200);
      await inboxWorker().drain();
      assert.equal((await erp.getOrder(o.id))!.status, "ready_to_ship");
    });

    it("an out-of-order pair leaves the newer state", async () => {
      const erp = stack.main.host.erp;
      const o = await erp.createOrder(newOrder(5004));
      await drainAll();
      const z = stack.sandbox.order(o.number)!;
      const base = { order_id: z.id, order_tenant_id: o.number };
      // Both arrive before the worker runs, the newer one first.
      await hook.signed(envelope("order/updated", { ...base, state_id: 3, state_name: "Packed", updated_at: "2026-11-28T12:00:00Z" }));
      await hook.signed(envelope("order/updated", { ...base, state_id: 2, state_name: "In Progress", updated_at: "2026-11-28T11:00:00Z" }));
      await inboxWorker().drain();
      assert.equal((await erp.getOrder(o.id))!.status, "ready_to_ship");
    });

    it("forged deliveries change nothing in the ERP", async () => {
      const erp = stack.main.host.erp;
      const o = await erp.createOrder(newOrder(5005));
      await drainAll();
      const z = stack.sandbox.order(o.number)!;
      const evil = JSON.stringify(
        envelope("order/cancelled", { order_id: z.id, order_tenant_id: o.number, cancellation_reason: "forged" }),
      );
      for (const headers of [
        {} as Record<string, string>,
        { "X-ZenFlow-Signature": sign("whsec_guess", evil) },
        { "X-ZenFlow-Signature": sign(hook.secret, evil + " ") },
      ]) {
        assert.equal((await hook.post(evil, headers)).status, 401);
      }
      assert.equal((await hook.post(evil, { "X-ZenFlow-Signature": sign(hook.secret, evil) }, hook.url + "x")).status, 404);
      await inboxWorker().drain();
      assert.equal((await erp.getOrder(o.id))!.status, "awaiting_fulfillment");
    });

    it("an event for an order the ERP does not know is kept, visible and not retried", async () => {
      const res = await hook.signed(
        envelope("order/updated", { order_id: 999999, order_tenant_id: "SO-NOT-HERE", state_id: 2, state_name: "In Progress" }),
      );
      assert.equal(res.status, 200);
      await inboxWorker().drain();
      const row = await stack.db
        .knex("zenflow_inbox")
        .where({ entity_key: entityKey.inboxOrder("SO-NOT-HERE") })
        .first();
      assert.equal(row.status, "unmatched");
      assert.match(row.last_error, /ZenFlow order 999999 \(SO-NOT-HERE\) does not match any ERP order/);
      assert.equal(Number(row.attempts), 1);
    });

    it("answers 503 while the database cannot store the event, so ZenFlow retries", async () => {
      const body = envelope("order/updated", { order_id: 1, order_tenant_id: "SO-503", state_id: 2, state_name: "In Progress" });
      await stack.db.knex.schema.renameTable("zenflow_inbox", "zenflow_inbox_away");
      try {
        assert.equal((await hook.signed(body)).status, 503);
      } finally {
        await stack.db.knex.schema.renameTable("zenflow_inbox_away", "zenflow_inbox");
      }
      assert.equal((await hook.signed(body)).status, 200, "the retry succeeds");
    });

    it("after a new subscription, deliveries signed with the previous secret still verify", async () => {
      const v = stack.main.plugin.runtime()!;
      const oldSecret = hook.secret;
      // Stock from ZenFlow needs stock/updated: ZenFlow cannot edit a subscription, so a new one is made.
      assert.deepEqual(await stack.main.host.saveConfig({ ...stack.config, stockSource: "zenflow" }), { ok: true });
      const engine = stack.main.plugin.runtime()!.engine!;
      assert.equal(await engine.scheduler.runTask("webhook-subscription"), "ran");
      const reg = (await readRegistration(v.parts.state))!;
      assert.ok(reg.events.includes("stock/updated"));
      assert.equal(stack.sandbox.webhooks().length, 2);
      assert.equal(reg.previous.length, 1);
      clock.advance(5100); // the receiver's 5 s credential cache expires
      const e = envelope("flow/completed", { flow_id: 2 });
      assert.equal((await hook.signed(e, oldSecret)).status, 200, "old secret within the grace period");
      const fresh = open(v.config!.apiKey, reg.secret)!;
      assert.equal((await hook.signed(envelope("flow/completed", { flow_id: 3 }), fresh)).status, 200, "new secret");
    });

    it("stock from ZenFlow lands in the ERP and is not pushed back", async () => {
      const erp = stack.main.host.erp;
      await erp.createProduct({ sku: "WH-STOCK-1", barcode: "7790009990001", name: "Warehouse mug", active: true } as never);
      await drainAll(); // the product itself goes to ZenFlow; only what follows would be an echo
      const before = stack.sandbox.requests().length;
      await hook.signed(
        envelope("stock/updated", {
          product_id: 100,
          product_barcode: "7790009990001",
          sku: "WH-STOCK-1",
          location_id: "main",
          quantity: 42,
          previous_quantity: 0,
          updated_at: new Date().toISOString(),
        }),
      );
      await drainAll();
      assert.equal(await erp.getStock("WH-STOCK-1", "main"), 42);
      assert.deepEqual(
        stack.sandbox
          .requests()
          .slice(before)
          .map((r) => `${r.method} ${r.path}`),
        [],
        "no echo to ZenFlow",
      );
    });

    it("after an API key change, deliveries signed with the old subscription's secret still verify during the grace period", async () => {
      const before = stack.main.plugin.runtime()!;
      const oldKey = before.config!.apiKey;
      const oldSecret = open(oldKey, (await readRegistration(before.parts.state))!.secret)!;
      const newKey = "zenflow_test_rotated_key_2";
      stack.sandbox.addKey({ key: newKey, scopes: ["admin"] });
      const config = { ...stack.config, stockSource: "zenflow", apiKey: newKey };
      assert.deepEqual(await stack.main.host.saveConfig(config), { ok: true });
      const engine = stack.main.plugin.runtime()!.engine!;
      assert.equal(await engine.scheduler.runTask("webhook-subscription"), "ran");
      const reg = (await readRegistration(stack.main.plugin.runtime()!.parts.state))!;
      const fresh = open(newKey, reg.secret)!;
      assert.ok(fresh && fresh !== oldSecret, "a new subscription under the new key");
      assert.ok(!JSON.stringify(reg).includes(oldSecret), "still sealed at rest");
      await new Promise((r) => setTimeout(r, 5100)); // the receiver's credential cache
      assert.equal((await hook.signed(envelope("flow/completed", { flow_id: 4 }), oldSecret)).status, 200, "old key's secret");
      assert.equal((await hook.signed(envelope("flow/completed", { flow_id: 5 }), fresh)).status, 200, "new secret");
      assert.equal((await hook.signed(envelope("flow/completed", { flow_id: 6 }), "whsec_never")).status, 401);
    });
  });
}
