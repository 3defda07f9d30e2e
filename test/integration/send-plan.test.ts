// The plan view (issue #13 item 3): "what will the next sync do?" For a scripted backlog the
// plan names the requests the worker then actually sends — the same count, the same batches,
// the same orders in each — and computing it sends nothing and changes no row. Under a short
// budget it foresees the held partial batch and the windows the requests fall in. Real
// databases, the sandbox over HTTP.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { RequestLogEntry } from "../../dev/sandbox";
import { orderTimeline } from "../../plugin/admin/order-timeline";
import type { SendPlan } from "../../plugin/admin/send-plan";
import { HOUR, MINUTE, windowStart } from "../../plugin/budget/windows";
import { newOrder, newProduct } from "../support/builders";
import { testDbKinds } from "../support/db";
import { scaledClock } from "../support/fast-clock";
import { type Stack, eventually, routeAll, startStack } from "../support/stack";

const BATCH = 50;
const engineOf = (s: Stack) => s.main.plugin.runtime()!.engine!;

/** What a request carried, by the ERP references the plan names (order numbers, SKUs). */
function carried(r: RequestLogEntry): string[] {
  const body = r.body as { orders?: { order_tenant_id: string }[]; updates?: { sku: string }[]; products?: { sku?: string }[] } | null;
  if (body?.orders) return body.orders.map((o) => o.order_tenant_id).sort();
  if (body?.updates) return body.updates.map((u) => u.sku).sort();
  if (body?.products) return body.products.map((p) => String(p.sku)).sort();
  return [];
}

/** The sandbox's requests as the plan names them: "METHOD /path-pattern" and what each carried. */
function sentAsPlanned(requests: RequestLogEntry[]) {
  return requests
    .filter((r) => r.status !== null && r.status < 300 && r.method !== "GET")
    .map((r) => {
      const path = r.path.replace(/^\/api\/v\d+/, "");
      const endpoint = /^\/orders\/[^/]+\/cancel$/.test(path)
        ? "POST /orders/:id/cancel"
        : /^\/orders\/[^/]+$/.test(path)
          ? `${r.method} /orders/:id`
          : `${r.method} ${path}`;
      return { endpoint, refs: carried(r) };
    });
}

/** The plan's requests the same way; single-order requests (PUT, cancel) carry no list in their body. */
function plannedAsSent(plan: SendPlan) {
  return plan.requests.map((r) => ({ endpoint: r.endpoint, refs: r.endpoint.includes(":id") ? [] : [...r.refs].sort() }));
}

const key = (x: { endpoint: string; refs: string[] }) => `${x.endpoint} ${x.refs.join(",")}`;

async function tableCounts(stack: Stack): Promise<Record<string, unknown>> {
  const k = stack.db.knex;
  const out: Record<string, unknown> = {};
  for (const t of ["zenflow_outbox", "zenflow_id_map", "zenflow_history", "zenflow_requests", "zenflow_event_log"]) {
    out[t] = await k(t).select("*").orderBy(1);
  }
  return out;
}

for (const kind of testDbKinds()) {
  describe(`send plan [${kind}]`, () => {
    it("predicts the requests the worker then sends for a scripted backlog (same count, same batches), and sends nothing itself", async () => {
      const stack = await startStack(kind, {
        plugin: { autoStart: false },
        config: { orderBatchSize: BATCH, stockSource: "erp", locationMap: { main: "LOC-A1" } },
      });
      try {
        const erp = stack.main.host.erp;
        // Already in ZenFlow: 30 products and three orders.
        const products = [];
        for (let i = 0; i < 30; i++) products.push(await erp.createProduct(newProduct(900_000 + i)));
        const edited = await erp.createOrder(newOrder(900_001));
        const cancelled = await erp.createOrder(newOrder(900_002));
        const untouched = await erp.createOrder(newOrder(900_003));
        await stack.drain();
        assert.equal(stack.sandbox.orders().length, 3);

        // The backlog: 120 new orders, one header edit, one cancellation, one change that
        // changes nothing ZenFlow tracks, 30 stock levels and 2 product edits.
        for (let i = 0; i < 120; i++) await erp.createOrder(newOrder(901_000 + i));
        await erp.updateOrder(edited.id, { shipByDate: "2026-05-20" });
        await erp.cancelOrder(cancelled.id, "customer changed their mind");
        await erp.updateOrder(untouched.id, { currency: "USD" });
        for (const [i, p] of products.entries()) await erp.setStock({ sku: p.sku, locationId: "main", quantity: 10 + i, reason: "count" });
        for (const p of products.slice(0, 2)) await erp.updateProduct(p.id, { name: `${p.name} (new label)` });
        await routeAll(stack, 123 + 30 + 2);

        const mark = stack.sandbox.requests().length;
        const before = await tableCounts(stack);
        const plan = await engineOf(stack).plan();
        assert.equal(stack.sandbox.requests().length, mark, "computing the plan sent nothing");
        assert.deepEqual(await tableCounts(stack), before, "and changed no row");

        const byKind = Object.fromEntries(plan.kinds.map((k) => [k.kind, k]));
        assert.equal(byKind.order!.due, 123);
        assert.equal(byKind.order!.requests, 5, "3 creates (50, 50, 20), 1 PUT, 1 cancel");
        assert.equal(byKind.order!.withoutRequest, 1, "the change that changes nothing");
        assert.equal(byKind.stock!.requests, 1);
        assert.equal(byKind.product!.requests, 1);
        assert.ok(plan.requests.every((r) => !r.estimated && r.at !== null));
        assert.deepEqual(
          plan.requests.filter((r) => r.endpoint === "POST /orders").map((r) => r.jobIds.length),
          [50, 50, 20],
        );
        assert.equal(plan.waiting, 123 + 30 + 2);
        assert.match(plan.summary, /^155 waiting — all sent within seconds at the current budget \(7 requests\)$/);

        await stack.drain();
        const sent = sentAsPlanned(stack.sandbox.requests().slice(mark));
        const planned = plannedAsSent(plan);
        assert.equal(sent.length, planned.length, `sent ${JSON.stringify(sent.map((s) => s.endpoint))}`);
        assert.deepEqual(sent.map(key).sort(), planned.map(key).sort(), "the same requests, each with the same orders, levels or products");
        const cancel = stack.sandbox
          .requests()
          .slice(mark)
          .find((r) => r.path.endsWith("/cancel"));
        assert.ok(cancel, "the cancellation was sent");
        assert.equal(stack.sandbox.order(cancelled.number)!.state_name, "Cancelled");
        assert.equal(stack.sandbox.order(edited.number)!.assembly_date, "2026-05-20");

        const after = await engineOf(stack).plan();
        assert.equal(after.requests.length, 0);
        assert.equal(after.summary, "Nothing waiting");
      } finally {
        await stack.close();
      }
    });

    it("under a short budget it foresees the held partial batch and the windows, and the worker's loop then sends exactly those batches", async () => {
      // Five times real speed, starting 2 s into an hour.
      const clock = scaledClock(5, windowStart(Date.now(), HOUR) + HOUR + 2_000);
      const stack = await startStack(kind, {
        sandbox: { now: clock.now, limits: { perMinute: 10, perHour: 100_000, perDay: 1_000_000 } },
        plugin: { clock, autoStart: false },
        config: { orderBatchSize: BATCH, rateLimitPerMinute: 10, batchHoldSeconds: 60 },
      });
      try {
        const erp = stack.main.host.erp;
        for (let i = 0; i < 120; i++) await erp.createOrder(newOrder(910_000 + i));
        await routeAll(stack, 120);
        // This minute already used 8 of its 10 requests: the third batch's token is next minute's.
        const now = clock.now();
        await stack.db
          .knex("zenflow_budget")
          .update({ minute_start: windowStart(now, MINUTE), minute_used: 8, hour_start: windowStart(now, HOUR), hour_used: 8 });

        const plan = await engineOf(stack).plan();
        const orders = plan.kinds.find((k) => k.kind === "order")!;
        assert.equal(orders.budgetShort, true, "the budget is what limits sending");
        assert.equal(orders.held?.jobs, 20, "the tail of 20 waits for company");
        const oldest = Number((await stack.db.knex("zenflow_outbox").min({ t: "run_at" }).first())!.t);
        assert.equal(orders.held!.until, oldest + 60_000, "until its oldest order has waited the bound");
        const creates = plan.requests.filter((r) => r.endpoint === "POST /orders");
        assert.deepEqual(
          creates.map((r) => [r.jobIds.length, r.why]),
          [
            [50, "full"],
            [50, "full"],
            [20, "waited"],
          ],
        );
        const minuteOf = (at: number | null) => windowStart(at!, MINUTE);
        assert.equal(minuteOf(creates[0]!.at), windowStart(now, MINUTE), "the first fills this minute's 9th token");
        assert.equal(minuteOf(creates[1]!.at), windowStart(now, MINUTE), "and the second its 10th");
        assert.equal(creates[2]!.at, orders.held!.until, "the held batch leaves once its bound passed, in the next minute");
        assert.equal(minuteOf(creates[2]!.at), windowStart(now, MINUTE) + MINUTE);
        assert.equal(plan.throughAt, creates[2]!.at);

        // The order timeline's "What now" says which request each order waits for, and when.
        const whatNow = async (n: number) =>
          (
            await orderTimeline(
              { db: stack.db.knex, erp: null, now: clock.now(), budget: await engineOf(stack).budget.snapshot(), plan },
              `SO-T-${String(910_000 + n).padStart(6, "0")}`,
            )
          ).whatNow.text;
        assert.match(
          await whatNow(0),
          /^Queued as job outbox:\d+: the next sync sends it with 49 other changes in POST \/orders within seconds\.$/,
        );
        assert.match(
          await whatNow(119),
          /^Queued as job outbox:\d+: the next sync sends it with 19 other changes in POST \/orders at about .* UTC; while the rate budget is short it waits for a fuller batch until .* UTC\.$/,
        );

        engineOf(stack).worker.start();
        await eventually(async () => stack.sandbox.orders().length === 120, 60_000, "all 120 in ZenFlow");
        const sent = stack.sandbox
          .requests()
          .filter((r) => r.method === "POST" && r.path.endsWith("/orders") && r.status !== null && r.status < 300);
        assert.deepEqual(
          sent.map((r) => carried(r)),
          creates.map((r) => [...r.refs].sort()),
          "the worker sent the batches the plan named",
        );
        assert.deepEqual(
          sent.map((r) => windowStart(r.at, MINUTE)),
          creates.map((r) => minuteOf(r.at)),
          "each in the minute the plan foresaw",
        );
        assert.ok(
          sent[2]!.at >= orders.held!.until - 1_000,
          `the partial batch left at its bound (${sent[2]!.at - orders.held!.until} ms)`,
        );
      } finally {
        await stack.close();
      }
    });

    it("health() carries the plan while something waits", async () => {
      const stack = await startStack(kind, { plugin: { autoStart: false }, config: { orderBatchSize: BATCH } });
      try {
        for (let i = 0; i < 60; i++) await stack.main.host.erp.createOrder(newOrder(920_000 + i));
        await routeAll(stack, 60);
        const h = await stack.main.plugin.health();
        const plan = h.details?.plan as { waiting: number; requests: number; throughAt: string; summary: string };
        assert.equal(plan.waiting, 60);
        assert.equal(plan.requests, 2);
        assert.match(plan.throughAt, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
        assert.match(plan.summary, /^60 waiting — all sent within seconds at the current budget \(2 requests\)$/);
        await stack.drain();
        const idle = await stack.main.plugin.health();
        assert.equal(idle.details?.plan, undefined, "no plan when nothing waits");
      } finally {
        await stack.close();
      }
    });
  });
}
