// Issue #4 acceptance: a burst of deliveries is stored and applied exactly once; thousands of
// random and mutated requests never cause a 5xx, a crash or an ERP change; the backstop
// repairs a lost webhook.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { sign } from "../../plugin/webhooks/signature";
import { mulberry32 } from "../../dev/sandbox/rng";
import { newOrder } from "../support/builders";
import { testDbKinds } from "../support/db";
import { startStack } from "../support/stack";
import { envelope, webhookClient } from "../support/webhooks";

/** Runs `tasks` with at most `limit` in flight. */
async function pool<T>(limit: number, tasks: (() => Promise<T>)[]): Promise<T[]> {
  const out: T[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < tasks.length) {
        const i = next++;
        out[i] = await tasks[i]!();
      }
    }),
  );
  return out;
}

for (const kind of testDbKinds()) {
  describe(`webhook load, fuzz and backstop [${kind}]`, () => {
    it("1,000 deliveries, 200 at a time, all stored and each applied once", async () => {
      const stack = await startStack(kind, { plugin: { autoStart: false } });
      try {
        const hook = await webhookClient(stack);
        const orders = [];
        for (let i = 0; i < 50; i++) orders.push(await stack.main.host.erp.createOrder(newOrder(7000 + i)));
        await stack.drain();
        const states = [
          [2, "In Progress"],
          [3, "Packed"],
        ] as const;
        const bodies = [];
        for (let n = 0; n < 1000; n++) {
          const o = orders[n % 50]!;
          const step = Math.floor(n / 50); // 0..19: later steps are newer
          const [state_id, state_name] = states[step % 2]!;
          const at = new Date(Date.UTC(2026, 10, 28, 10, 0, step)).toISOString();
          bodies.push(
            envelope("order/updated", {
              order_id: stack.sandbox.order(o.number)!.id,
              order_tenant_id: o.number,
              state_id,
              state_name,
              updated_at: at,
            }),
          );
        }
        const answers = await pool(
          200,
          bodies.map((b) => () => hook.signed(b)),
        );
        assert.deepEqual([...new Set(answers.map((a) => `${a.status}${a.json.duplicate ? " duplicate" : ""}`))], ["200"]);
        const stored = await stack.db.knex("zenflow_inbox").whereIn(
          "event_id",
          bodies.map((b) => b.id),
        );
        assert.equal(stored.length, 1000);
        await stack.main.plugin.runtime()!.engine!.inboxWorker.drain();
        const after: { status: string; n: unknown }[] = await stack.db
          .knex("zenflow_inbox")
          .whereIn(
            "event_id",
            bodies.map((b) => b.id),
          )
          .select("status")
          .count({ n: "*" })
          .groupBy("status");
        assert.deepEqual(
          after.map((r) => [r.status, Number(r.n)]),
          [["done", 1000]],
        );
        const settled = await stack.db
          .knex("zenflow_history")
          .where({ kind: "order" })
          .whereIn("outcome", ["applied", "ignored"])
          .count({ n: "*" });
        assert.equal(Number(settled[0]!.n), 1000, "each delivery settled exactly once");
        // The newest state of each order is the one that stays: step 19 is Packed.
        for (const o of orders) assert.equal((await stack.main.host.erp.getOrder(o.id))!.status, "ready_to_ship");
      } finally {
        await stack.close();
      }
    });

    it("a burst of new deliveries, repeats of stored ones and repeats within the burst: each stored once, each repeat answered duplicate", async () => {
      const stack = await startStack(kind, { plugin: { autoStart: false } });
      try {
        const hook = await webhookClient(stack);
        const order = await stack.main.host.erp.createOrder(newOrder(7600));
        await stack.drain();
        const zid = stack.sandbox.order(order.number)!.id;
        const body = (n: number) =>
          envelope(
            "order/updated",
            { order_id: zid, order_tenant_id: order.number, state_id: 2, state_name: "In Progress" },
            new Date(Date.UTC(2026, 10, 28, 10, 0, n)).toISOString(),
          );
        const old = Array.from({ length: 50 }, (_, n) => body(n));
        for (const b of old) assert.equal((await hook.signed(b)).status, 200);
        const fresh = Array.from({ length: 150 }, (_, n) => body(100 + n));
        // Every old one again, and every fresh one twice, all at once: whole batches of new
        // rows and batches where some rows were there already.
        const burst = [...fresh, ...old, ...fresh];
        const answers = await pool(
          burst.length,
          burst.map((b) => () => hook.signed(b)),
        );
        assert.deepEqual([...new Set(answers.map((a) => a.status))], [200]);
        const duplicates = answers.filter((a) => a.json.duplicate === true).length;
        assert.equal(duplicates, old.length + fresh.length, "each repeat is answered as a duplicate, each first delivery is not");
        const firstOfFresh = new Map<string, number>();
        answers.forEach((a, i) => {
          const id = burst[i]!.id;
          if (i < fresh.length || i >= fresh.length + old.length)
            if (a.json.duplicate !== true) firstOfFresh.set(id, (firstOfFresh.get(id) ?? 0) + 1);
        });
        assert.equal(firstOfFresh.size, fresh.length, "every fresh event was acknowledged as new exactly once");
        assert.ok([...firstOfFresh.values()].every((n) => n === 1));
        const stored = await stack.db.knex("zenflow_inbox").whereIn(
          "event_id",
          [...old, ...fresh].map((b) => b.id),
        );
        assert.equal(stored.length, old.length + fresh.length);
      } finally {
        await stack.close();
      }
    });

    it("5,000 random and mutated requests: no 5xx, no crash, no ERP change from an unsigned body", async () => {
      const stack = await startStack(kind, { plugin: { autoStart: false } });
      try {
        const hook = await webhookClient(stack);
        const order = await stack.main.host.erp.createOrder(newOrder(8000));
        await stack.drain();
        const zid = stack.sandbox.order(order.number)!.id;
        const rand = mulberry32(20261128);
        const pick = <T>(a: T[]) => a[Math.floor(rand() * a.length)]!;
        const randomString = (n: number) => Array.from({ length: n }, () => String.fromCharCode(Math.floor(rand() * 0x2fff))).join("");
        // Header values must be Latin-1 for fetch to send them at all.
        const printable = [...Array.from({ length: 95 }, (_, i) => 0x20 + i), ...Array.from({ length: 96 }, (_, i) => 0xa0 + i)];
        const randomLatin1 = (n: number) => Array.from({ length: n }, () => String.fromCharCode(pick(printable))).join("");
        const real = JSON.stringify(
          envelope("order/cancelled", { order_id: zid, order_tenant_id: order.number, cancellation_reason: "fuzz" }),
        );
        const jsonish = [
          "null",
          "[]",
          "{}",
          '{"id":1}',
          '{"id":"x","event":5,"created_at":"now","data":[]}',
          '{"id":"x","event":"order/updated","created_at":"2026","data":{"order_id":{"a":1}}}',
          '"string"',
          "1e309",
          '{"__proto__":{"polluted":true},"id":"p","event":"order/updated","created_at":"x","data":{}}',
        ];
        const requests: (() => Promise<{ status: number; signed: boolean }>)[] = [];
        for (let i = 0; i < 5000; i++) {
          const mode = i % 10;
          requests.push(async () => {
            let body: string | Buffer;
            let headers: Record<string, string> = {};
            let url = hook.url;
            let signed = false;
            if (mode < 3) {
              // A real cancellation with one byte flipped, signature of the original.
              const b = Buffer.from(real);
              const at = Math.floor(rand() * b.length);
              b[at] = b[at]! ^ (1 + Math.floor(rand() * 255));
              body = b;
              headers = { "X-ZenFlow-Signature": sign(hook.secret, real) };
            } else if (mode < 5) {
              body = randomString(Math.floor(rand() * 2000));
              headers = pick<Record<string, string>>([
                {},
                { "X-ZenFlow-Signature": randomLatin1(70).trim() || "x" },
                { "X-ZenFlow-Signature": "sha256=" + "a".repeat(64) },
                { "X-ZenFlow-Signature": ",,,sha256=,," },
              ]);
            } else if (mode < 6) {
              body = real;
              headers = { "X-ZenFlow-Signature": sign(hook.secret, real) };
              url = pick([
                hook.url.slice(0, -1),
                hook.url + "/x",
                hook.url.replace("/webhooks/", "/webhook/"),
                `${stack.main.host.ctx.http.publicUrl}/webhooks/`,
              ]);
            } else if (mode < 7) {
              body = real;
              headers = {
                "X-ZenFlow-Signature": sign(hook.secret, real),
                "content-type": pick(["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""]),
              };
              url = hook.url;
              // signed with a wrong secret
              headers["X-ZenFlow-Signature"] = sign(hook.secret + "x", real);
            } else {
              // Validly signed garbage: must be 400 or stored-and-ignored, never a 5xx.
              body = rand() < 0.5 ? pick(jsonish) : randomString(Math.floor(rand() * 300));
              headers = { "X-ZenFlow-Signature": sign(hook.secret, body) };
              signed = true;
            }
            try {
              const r = await hook.post(body, headers, url);
              return { status: r.status, signed };
            } catch (err) {
              const cause = (err as { cause?: { code?: string; message?: string } }).cause;
              throw new Error(
                `request ${i} (mode ${mode}) failed: ${cause?.code ?? ""} ${cause?.message ?? (err as Error).message} headers=${JSON.stringify(headers)}`,
              );
            }
          });
        }
        const results = await pool(50, requests);
        const byStatus = new Map<number, number>();
        for (const r of results) byStatus.set(r.status, (byStatus.get(r.status) ?? 0) + 1);
        assert.ok(
          results.every((r) => r.status < 500),
          `statuses: ${JSON.stringify([...byStatus])}`,
        );
        assert.ok(
          results.filter((r) => !r.signed).every((r) => r.status === 401 || r.status === 404),
          "unsigned or mis-signed requests are refused",
        );
        await stack.main.plugin.runtime()!.engine!.inboxWorker.drain();
        assert.equal((await stack.main.host.erp.getOrder(order.id))!.status, "awaiting_fulfillment", "the ERP order is untouched");
        assert.equal(({} as Record<string, unknown>).polluted, undefined, "no prototype pollution");
        // Still serving after the storm.
        assert.equal((await hook.signed(envelope("flow/started", { flow_id: 1 }))).status, 200);
      } finally {
        await stack.close();
      }
    });

    it("the backstop repairs a lost webhook, at low priority and without re-checking finished orders", async () => {
      const stack = await startStack(kind, { plugin: { autoStart: false } });
      try {
        // No subscription: ZenFlow's state changes reach us only through the backstop.
        const erp = stack.main.host.erp;
        const a = await erp.createOrder(newOrder(9001));
        const b = await erp.createOrder(newOrder(9002));
        await stack.drain();
        stack.sandbox.advanceOrder(a.number, "Packed");
        // Sent long enough ago to be checked.
        await stack.db
          .knex("zenflow_id_map")
          .where({ entity_type: "order" })
          .update({ synced_at: Date.now() - 3 * 3_600_000 });
        const engine = stack.main.plugin.runtime()!.engine!;
        assert.equal(await engine.scheduler.runTask("order-status-backstop"), "ran");
        await engine.inboxWorker.drain();
        assert.equal((await erp.getOrder(a.id))!.status, "ready_to_ship");
        assert.equal((await erp.getOrder(b.id))!.status, "awaiting_fulfillment");
        const checks = stack.sandbox.requests().filter((r) => r.path.endsWith("/status"));
        assert.equal(checks.length, 2, "one status request per open order");
      } finally {
        await stack.close();
      }
    });
  });
}
