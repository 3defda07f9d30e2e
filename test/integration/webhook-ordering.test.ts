// Issue #10 item 6: webhooks that carry the same timestamp apply deterministically, whatever
// order they arrive in: an order's state moves forward along ZenFlow's fulfilment order
// (rank, then event id), and only a strictly newer timestamp may move it back. Stock levels
// follow the same rule, with previous_quantity telling which level came after which.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { newOrder, newProduct } from "../support/builders";
import { testDbKinds } from "../support/db";
import { startStack, type Stack } from "../support/stack";
import { envelope, webhookClient, type Hook } from "../support/webhooks";

const T = "2026-12-05T10:00:00Z";
const STATES = { "In Progress": 2, Packed: 3, Completed: 4, Cancelled: 5 } as const;
type State = keyof typeof STATES;

function permutations<T>(xs: T[]): T[][] {
  if (xs.length <= 1) return [xs];
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
}

for (const kind of testDbKinds()) {
  describe(`webhook ordering [${kind}]`, () => {
    let stack: Stack;
    let hook: Hook;
    let n = 0;
    const inbox = () => stack.main.plugin.runtime()!.engine!.inboxWorker;
    before(async () => {
      stack = await startStack(kind, { plugin: { autoStart: false }, config: { stockSource: "zenflow" } });
      hook = await webhookClient(stack);
    });
    after(async () => stack?.close());

    /** Delivers each event and applies it before the next arrives (or all, then applies once). */
    async function deliver(order: { number: string }, events: { state: State; at: string; id?: string }[], oneByOne: boolean) {
      const z = stack.sandbox.order(order.number)!;
      for (const e of events) {
        const event = e.state === "Completed" ? "order/completed" : e.state === "Cancelled" ? "order/cancelled" : "order/updated";
        const body = envelope(event, {
          order_id: z.id,
          order_tenant_id: order.number,
          state_id: STATES[e.state],
          state_name: e.state,
          updated_at: e.at,
        });
        assert.equal((await hook.signed(e.id ? { ...body, id: e.id } : body)).status, 200);
        if (oneByOne) await inbox().drain();
      }
      await inbox().drain();
    }

    async function freshOrder() {
      const o = await stack.main.host.erp.createOrder(newOrder(12_000 + ++n));
      await stack.drain();
      return o;
    }

    const cases: { name: string; arrivals: State[][]; status: string }[] = [
      {
        name: "In Progress, Packed and Completed in the same second",
        arrivals: permutations<State>(["In Progress", "Packed", "Completed"]),
        status: "shipped",
      },
      {
        name: "Packed and Cancelled in the same second",
        arrivals: permutations<State>(["Packed", "Cancelled"]),
        status: "cancelled",
      },
    ];
    for (const c of cases) {
      for (const oneByOne of [true, false]) {
        it(`${c.name}, ${oneByOne ? "each applied before the next arrives" : "all arriving before the worker runs"}: every arrival order ends ${c.status}`, async () => {
          for (const arrival of c.arrivals) {
            const o = await freshOrder();
            await deliver(
              o,
              arrival.map((state) => ({ state, at: T })),
              oneByOne,
            );
            assert.equal((await stack.main.host.erp.getOrder(o.id))!.status, c.status, arrival.join(" → "));
          }
        });
      }
    }

    it("a strictly newer timestamp may move an order back; the same timestamp may not", async () => {
      const o = await freshOrder();
      await deliver(
        o,
        [
          { state: "Packed", at: T },
          { state: "In Progress", at: T },
        ],
        true,
      );
      assert.equal((await stack.main.host.erp.getOrder(o.id))!.status, "ready_to_ship");
      await deliver(o, [{ state: "In Progress", at: "2026-12-05T10:00:01Z" }], true);
      assert.equal((await stack.main.host.erp.getOrder(o.id))!.status, "picking");
    });

    it("two stock levels of the same instant: the one whose previous_quantity is the other's level wins, in either arrival order", async () => {
      const erp = stack.main.host.erp;
      for (const [i, order] of [
        ["first", "second"],
        ["second", "first"],
      ].entries()) {
        const p = await erp.createProduct(newProduct(12_500 + i));
        const levels = {
          first: { quantity: 5, previous_quantity: 10 },
          second: { quantity: 3, previous_quantity: 5 },
        } as Record<string, { quantity: number; previous_quantity: number }>;
        for (const which of order) {
          const e = envelope("stock/updated", { sku: p.sku, location_id: "main", ...levels[which], updated_at: T });
          assert.equal((await hook.signed(e)).status, 200);
          await inbox().drain();
        }
        assert.equal(await erp.getStock(p.sku, "main"), 3, `arrival ${order.join(" → ")}`);
      }
    });
  });
}
