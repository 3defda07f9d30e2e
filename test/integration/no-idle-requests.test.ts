// Issue #13 item 1: no request that changes nothing. A create whose answer was lost is
// retried; ZenFlow's "existing" answer then needs no PUT unless the ERP order changed since.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { newOrder } from "../support/builders";
import { testDbKinds } from "../support/db";
import { createInZenflowByHand } from "../support/hand-made-order";
import { eventually, startStack, type Stack } from "../support/stack";

const CREATE = { method: "POST", path: /\/orders$/ };

function requestsOf(stack: Stack, method: string, path: RegExp) {
  return stack.sandbox.requests().filter((r) => r.method === method && path.test(r.path));
}

const puts = (stack: Stack) => requestsOf(stack, "PUT", /\/orders\/[^/]+$/);

async function binding(stack: Stack, erpId: string) {
  return stack.db.knex("zenflow_id_map").where({ entity_type: "order", erp_id: erpId }).first();
}

/** One worker step: the create goes out once, and a failed job waits for its backoff. */
async function sendOnce(stack: Stack) {
  await stack.main.plugin.runtime()!.parts.eventLog.route();
  await stack.main.plugin.runtime()!.engine!.worker.runOnce();
}

/** Drains until `done` holds (failed attempts come back after a short backoff). */
async function drainUntil(stack: Stack, done: () => Promise<unknown>, what: string) {
  await eventually(
    async () => {
      await stack.drain();
      return done();
    },
    10_000,
    what,
  );
  await stack.drain();
}

const drainUntilBound = (stack: Stack, erpId: string) =>
  drainUntil(stack, async () => (await binding(stack, erpId))?.zenflow_id, "order bound");

for (const kind of testDbKinds()) {
  describe(`no idle requests [${kind}]`, () => {
    it("a create whose answer is lost and whose retry answers 'existing' sends no PUT", async () => {
      const stack = await startStack(kind, { plugin: { autoStart: false } });
      try {
        const o = await stack.main.host.erp.createOrder(newOrder(61_001));
        stack.sandbox.failNext(1, "reset-after", CREATE);
        await drainUntilBound(stack, o.id);

        const creates = requestsOf(stack, "POST", /\/orders$/);
        assert.equal(creates.length, 2, "the lost create and its retry");
        assert.equal(creates[0]!.fault, "reset-after");
        assert.deepEqual(puts(stack), [], "no PUT after 'existing'");
        assert.equal(stack.sandbox.orders().length, 1);
        const b = await binding(stack, o.id);
        assert.equal(String(b.zenflow_id), String(stack.sandbox.order(o.number)!.id));
        assert.ok(b.payload_hash, "ZenFlow's header is known to be ours");
        assert.equal(b.sent_hash, null, "nothing in doubt once answered");
        const jobs = await stack.db.knex("zenflow_outbox").select("status");
        assert.deepEqual([...new Set(jobs.map((j) => j.status))], ["done"]);
      } finally {
        await stack.close();
      }
    });

    it("an order edited between the lost create and its retry gets exactly one PUT with the new header", async () => {
      const stack = await startStack(kind, { plugin: { autoStart: false } });
      try {
        const erp = stack.main.host.erp;
        const o = await erp.createOrder(newOrder(61_002));
        stack.sandbox.failNext(1, "reset-after", CREATE);
        await sendOnce(stack);
        assert.equal(requestsOf(stack, "POST", /\/orders$/).length, 1, "the first create was sent and its answer lost");
        assert.equal((await binding(stack, o.id)).zenflow_id, null);
        await erp.updateOrder(o.id, { shipByDate: "2026-04-15" });
        await drainUntilBound(stack, o.id);

        assert.equal(stack.sandbox.order(o.number)!.assembly_date, "2026-04-15", "ZenFlow has the edited ship-by date");
        const sent = puts(stack);
        assert.equal(sent.length, 1, "one PUT: which create ZenFlow kept is unknown");
        assert.equal((sent[0]!.body as { assembly_date?: string }).assembly_date, "2026-04-15");
      } finally {
        await stack.close();
      }
    });

    it("an order made in ZenFlow by hand (never attempted by us) still gets our header with a PUT", async () => {
      const stack = await startStack(kind, { plugin: { autoStart: false } });
      try {
        const o = await stack.main.host.erp.createOrder(newOrder(61_003));
        await createInZenflowByHand(stack, o.number);
        await stack.drain();
        assert.equal(puts(stack).length, 1);
        assert.equal(stack.sandbox.order(o.number)!.assembly_date, "2026-03-01");
      } finally {
        await stack.close();
      }
    });

    it("a create batch that failed goes out again as one request, not split by each order's backoff", async () => {
      const stack = await startStack(kind, { plugin: { autoStart: false } });
      try {
        const erp = stack.main.host.erp;
        const orders = [];
        for (let i = 0; i < 12; i++) orders.push(await erp.createOrder(newOrder(61_100 + i)));
        stack.sandbox.failNext(1, "5xx", CREATE);
        await sendOnce(stack);
        assert.equal(requestsOf(stack, "POST", /\/orders$/).length, 1, "one batch, refused with a 5xx");
        await drainUntil(stack, async () => stack.sandbox.orders().length === 12, "all 12 in ZenFlow");
        const creates = requestsOf(stack, "POST", /\/orders$/);
        assert.deepEqual(
          creates.map((r) => (r.body as { orders: unknown[] }).orders.length),
          [12, 12],
          "the failed batch and its retry, whole",
        );
      } finally {
        await stack.close();
      }
    });

    it("an order bound from ZenFlow's side after a lost create answer is not PUT", async () => {
      const stack = await startStack(kind, { plugin: { autoStart: false } });
      try {
        const erp = stack.main.host.erp;
        const o = await erp.createOrder(newOrder(61_004));
        stack.sandbox.failNext(1, "reset-after", CREATE);
        await sendOnce(stack);
        // What the webhook handler does for an order it finds by number (apply-order-state, findOrder).
        const z = stack.sandbox.order(o.number)!;
        await stack.db
          .knex("zenflow_id_map")
          .where({ entity_type: "order", erp_id: o.id })
          .update({ zenflow_id: String(z.id) });
        await drainUntil(
          stack,
          async () => (await stack.db.knex("zenflow_outbox").select("status")).every((j) => j.status === "done"),
          "job settled",
        );
        assert.equal(requestsOf(stack, "POST", /\/orders$/).length, 1, "no second create");
        assert.deepEqual(puts(stack), [], "no PUT");
        assert.ok((await binding(stack, o.id)).payload_hash, "the header ZenFlow has is recorded");
      } finally {
        await stack.close();
      }
    });

    it("a cancel of an order ZenFlow reported Completed sends no request and leaves the note", async () => {
      const stack = await startStack(kind, { plugin: { autoStart: false } });
      try {
        const erp = stack.main.host.erp;
        const o = await erp.createOrder(newOrder(61_005));
        await stack.drain();
        stack.sandbox.advanceOrder(o.number, "Completed", { trackingNumber: "TRK9" });
        // What an applied order.completed webhook records.
        await stack.db
          .knex("zenflow_id_map")
          .where({ entity_type: "order", erp_id: o.id })
          .update({ remote_state: "Completed", remote_updated_at: Date.now(), remote_event_id: "evt-1" });
        await erp.cancelOrder(o.id, "too late");
        await stack.drain();
        assert.deepEqual(requestsOf(stack, "POST", /\/cancel$/), [], "no cancel request");
        const notes = await erp.notes(o.id);
        assert.ok(
          notes.some((n) => /ZenFlow could not cancel this order/.test(n.note)),
          JSON.stringify(notes),
        );
      } finally {
        await stack.close();
      }
    });
  });
}
