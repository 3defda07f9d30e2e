// Issue #10 acceptance: fuzzing the webhook endpoint and the order mapper with thousands of
// inputs generated from one seed (ZENFLOW_FUZZ_SEED to replay; printed on failure). The
// process never crashes, memory stays bounded, every answer is a documented status, and
// nothing malformed reaches the sandbox.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import { MappingError } from "../../plugin/core/errors";
import { toZenflowOrder } from "../../plugin/mapping/to-zenflow-order";
import { sign } from "../../plugin/webhooks/signature";
import { mulberry32 } from "../../dev/sandbox/rng";
import { newOrder } from "../support/builders";
import { testDbKinds } from "../support/db";
import { insertRawOrder, wellFormedOrder } from "../support/raw-orders";
import { startStack, type Stack } from "../support/stack";
import { webhookClient, type Hook } from "../support/webhooks";

const SEED = Number(process.env.ZENFLOW_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
/** The webhook endpoint's documented answers (README, "Receiving"). */
const STATUSES = new Set([200, 400, 401, 404, 408, 413, 415, 503]);

/** Values a hostile ERP or sender might put anywhere. */
function generator(seed: number) {
  const rand = mulberry32(seed);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)]!;
  const chars = ["a", "Z", "0", " ", "\u0000", "\r", "\n", "\t", "\u001b[31m", "ñ", "日", "😀", "\u202e", '"', "\\", "<", "%", "@", "~"];
  const str = (max = 40) => Array.from({ length: Math.floor(rand() * max) }, () => pick(chars)).join("");
  const num = () => pick([0, 1, -1, 1.5, 2, 1e308, -0, Number.MAX_SAFE_INTEGER, 1e6, 1e6 + 1, 0.0001, 3]);
  const scalar = (): unknown =>
    pick([() => str(), () => num(), () => null, () => undefined, () => true, () => [], () => ({}), () => "x".repeat(300)])();
  // Half the orders are hostile throughout; the other half are well formed, so both sides are covered.
  let hostile = true;
  const maybe = <T>(v: () => T): unknown => (!hostile || rand() < 0.93 ? v() : scalar());
  const either = <T>(clean: T, wild: () => T): T => (hostile ? wild() : clean);
  const order = (i: number): Record<string, unknown> => {
    hostile = rand() < 0.5;
    return {
      ...newOrder(20_000 + i),
      number: maybe(() => either(`FZ-${i}`, () => (rand() < 0.5 ? `FZ-${i}` : `FZ-${i}${str(8)}`))),
      shipByDate: maybe(() => either("2026-03-01", () => pick([null, "2026-03-01", "2026-02-30", "03/01/2026", ""]))),
      customer: maybe(() => ({ name: maybe(() => either("Ana", () => pick(["Ana", `Ana${str(6)}`, "", "  "]))) })),
      shippingAddress: maybe(() => ({
        line1: maybe(() => either("Calle 1", () => pick(["Calle 1", str(10), ""]))),
        city: maybe(() => either("Rosario", () => pick(["Rosario", str(5)]))),
        postalCode: maybe(() => "2000"),
        country: maybe(() => "AR"),
      })),
      items: maybe(() =>
        Array.from({ length: hostile && rand() < 0.05 ? 0 : 1 + Math.floor(rand() * 3) }, (_, k) =>
          maybe(() => ({
            sku: maybe(() => `FZ-SKU-${k}${hostile && rand() < 0.3 ? str(4) : ""}`),
            barcode: maybe(() => either("779123", () => pick([undefined, "779123", str(6)]))),
            quantity: maybe(() => either(1 + k, num)),
            unitPrice: maybe(() =>
              either("10.50", () => pick(["10.50", "0", "-1", "1e3", "99999999999999999999", "0.12345", " 5 ", str(4)])),
            ),
          })),
        ),
      ),
    };
  };
  return { rand, pick, str, scalar, order };
}

function withSeed<T>(fn: () => Promise<T>): Promise<T> {
  return fn().catch((err: unknown) => {
    throw new Error(`fuzz failed with ZENFLOW_FUZZ_SEED=${SEED}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
  });
}

describe(`order mapper fuzz (seed ${SEED})`, () => {
  it("5,000 generated ERP orders: each is well formed or a MappingError naming fields; nothing else is thrown", async (t) => {
    await withSeed(async () => {
      const g = generator(SEED);
      const heap = process.memoryUsage().heapUsed;
      let valid = 0;
      for (let i = 0; i < 5000; i++) {
        const o = g.order(i);
        try {
          const { payload } = toZenflowOrder(o as never);
          assert.deepEqual(wellFormedOrder(payload), [], `input ${i}: ${JSON.stringify(o)}`);
          valid++;
        } catch (err) {
          if (err instanceof assert.AssertionError) throw err;
          assert.ok(err instanceof MappingError, `input ${i} threw ${(err as Error)?.name}: ${(err as Error)?.message}`);
          assert.ok(err.problems.length && err.problems.every((p) => p.field && p.message), `input ${i}: ${err.message}`);
        }
      }
      assert.ok(valid >= 1000 && valid < 5000, `${valid} of 5,000 valid: the generator covers both sides`);
      const grown = (process.memoryUsage().heapUsed - heap) / 1_048_576;
      t.diagnostic(`seed ${SEED}: ${valid} of 5,000 well formed, heap grew ${grown.toFixed(1)} MiB`);
      assert.ok(grown < 256);
    });
  });
});

for (const kind of testDbKinds()) {
  describe(`fuzz through the real paths [${kind}] (seed ${SEED})`, () => {
    let stack: Stack;
    let hook: Hook;
    before(async () => {
      stack = await startStack(kind, { plugin: { autoStart: false } });
      hook = await webhookClient(stack);
    });
    after(async () => stack?.close());

    it("300 generated ERP orders through hook → outbox → sandbox: every job settles, only well-formed orders arrive", async () => {
      await withSeed(async () => {
        const g = generator(SEED + 1);
        for (let i = 0; i < 300; i++) {
          const o = g.order(i);
          // The ERP's own table keeps numbers unique: make each generated one so.
          if (typeof o.number === "string") o.number = `${o.number.slice(0, 200)}#${i}`;
          await insertRawOrder(stack, { ...o, id: `fz_${i}` });
        }
        await stack.drain();
        const stuck = await stack.db.knex("zenflow_outbox").whereNotIn("status", ["done", "dead"]).select("id", "last_error");
        assert.deepEqual(stuck, [], "every job done or dead");
        const dead = await stack.db.knex("zenflow_outbox").where({ status: "dead" }).select("last_error");
        for (const d of dead) assert.match(d.last_error, /cannot be sent to ZenFlow: \S/, d.last_error);
        for (const r of stack.sandbox.requests().filter((r) => r.method === "POST" && r.path.endsWith("/orders")))
          for (const o of (r.body as { orders: unknown[] }).orders) assert.deepEqual(wellFormedOrder(o), [], JSON.stringify(o));
      });
    });

    it("3,000 generated webhook requests: documented statuses only, bounded memory, the inbox drains, nothing goes to ZenFlow", async (t) => {
      await withSeed(async () => {
        const g = generator(SEED + 2);
        const order = await stack.main.host.erp.createOrder(newOrder(29_999));
        await stack.drain();
        const zid = stack.sandbox.order(order.number)!.id;
        const requestsBefore = stack.sandbox.requests().length;
        const wrong = hook.url.replace(/[^/]+$/, "B".repeat(32));
        const events = [
          "order/updated",
          "order/completed",
          "order/cancelled",
          "order.updated",
          "stock/updated",
          "flow/started",
          "ORDER/UPDATED",
          "",
        ];
        global.gc?.();
        const rss = process.memoryUsage().rss;
        const statuses = new Map<number, number>();
        const one = async (i: number) => {
          const envelope = {
            id: g.pick([`evt_fz_${SEED}_${i}`, `evt_fz_${i}${g.str(10)}`, g.scalar(), "x".repeat(200)]),
            event: g.pick(events),
            created_at: g.pick(["2026-12-05T10:00:00Z", g.str(), g.scalar()]),
            data: g.pick([
              {
                order_id: zid,
                order_tenant_id: order.number,
                state_id: g.pick([1, 2, 3, 4, 5, 9, "3"]),
                state_name: g.pick(["Packed", "packed ", g.str()]),
                updated_at: g.pick(["2026-12-05T10:00:00Z", g.str()]),
              },
              { order_id: g.scalar(), order_tenant_id: g.scalar(), tracking_number: g.str(300) },
              { sku: g.scalar(), location_id: g.scalar(), quantity: g.scalar(), previous_quantity: g.scalar() },
              g.scalar(),
            ]),
          };
          let body: Buffer = Buffer.from(JSON.stringify(envelope) ?? "null");
          const mode = g.rand();
          if (mode < 0.1) body = Buffer.from(body.toString("utf8").slice(0, Math.floor(g.rand() * body.length)));
          const headers: Record<string, string> = { "content-type": "application/json" };
          if (mode >= 0.9 && mode < 0.95) {
            body = gzipSync(body);
            headers["content-encoding"] = "gzip";
          }
          if (mode >= 0.95) body = Buffer.alloc(Math.floor(g.rand() * 1_200_000), 0x20);
          const signed = g.rand() < 0.8;
          if (signed) headers["X-ZenFlow-Signature"] = g.rand() < 0.9 ? sign(hook.secret, body) : sign("whsec_guess", body);
          const res = await fetch(g.rand() < 0.05 ? wrong : hook.url, { method: "POST", body: new Uint8Array(body), headers });
          await res.arrayBuffer();
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        };
        let next = 0;
        await Promise.all(
          Array.from({ length: 16 }, async () => {
            while (next < 3000) await one(next++);
          }),
        );
        const undocumented = [...statuses.keys()].filter((s) => !STATUSES.has(s));
        assert.deepEqual(undocumented, [], JSON.stringify([...statuses]));
        const grown = (process.memoryUsage().rss - rss) / 1_048_576;
        t.diagnostic(`seed ${SEED}: answers ${JSON.stringify([...statuses].sort())}, RSS grew ${grown.toFixed(1)} MiB`);
        assert.ok(grown < 192, `RSS grew ${grown.toFixed(0)} MiB`);
        await stack.main.plugin.runtime()!.engine!.inboxWorker.drain();
        const left = await stack.db.knex("zenflow_inbox").whereIn("status", ["pending", "running"]).count({ n: "*" });
        assert.equal(Number(left[0]!.n), 0, "the inbox drained");
        assert.equal(stack.sandbox.requests().length, requestsBefore, "the webhook path never calls ZenFlow");
        // Still serving.
        assert.equal(
          (await hook.signed({ id: `evt_after_${SEED}`, event: "flow/started", created_at: "2026-12-05T10:00:00Z", data: {} })).status,
          200,
        );
      });
    });
  });
}
