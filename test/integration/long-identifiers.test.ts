// Issue #10 item 1: identifiers of any length and alphabet, on both databases, through the
// real paths: ERP hook → outbox → sandbox, webhook → inbox → ERP, and stock keys. Lengths
// 1, 64, 65, 191, 192 and 255 straddle the old limits (the 64-character lease name, the
// 191-character key columns); ASCII and multi-byte alphabets, and identifiers that differ
// only in case, in a trailing space, or after their 191st character.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { entityKey, leaseName } from "../../plugin/jobs/keys";
import { newOrder, newProduct } from "../support/builders";
import { testDbKinds } from "../support/db";
import { startStack, type Stack } from "../support/stack";
import { envelope, webhookClient, type Hook } from "../support/webhooks";

const LENGTHS = [1, 64, 65, 191, 192, 255];
const ALPHABETS = { ascii: "Xy9.-", multibyte: "ñ日é語" } as const;
type Alphabet = keyof typeof ALPHABETS;
const ASCII = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
let made = 0;

/** Exactly `len` code points, never the same string twice (its first characters count the calls). */
function ident(len: number, alphabet: Alphabet, _n?: number): string {
  const c = made++;
  const head = alphabet === "ascii" ? [ASCII[c % 62]!, ASCII[Math.floor(c / 62) % 62]!] : [String.fromCodePoint(0x4e00 + c)];
  const chars = head.slice(0, len);
  const fill = [...ALPHABETS[alphabet]];
  while (chars.length < len) chars.push(fill[chars.length % fill.length]!);
  return chars.join("");
}

const cases = LENGTHS.flatMap((len) => (Object.keys(ALPHABETS) as Alphabet[]).map((alphabet) => ({ len, alphabet })));

for (const kind of testDbKinds()) {
  describe(`identifiers of any length [${kind}]`, () => {
    let stack: Stack;
    let hook: Hook;
    const inbox = () => stack.main.plugin.runtime()!.engine!.inboxWorker;
    before(async () => {
      stack = await startStack(kind, {
        plugin: { autoStart: false },
        config: { stockSource: "erp", locationMap: { main: "LOC-A1", backroom: "LOC-A2" } },
      });
      hook = await webhookClient(stack);
    });
    after(async () => stack?.close());

    it("ERP order ids and numbers of every length reach ZenFlow once each; over 100 characters a number is a dead letter naming it", async () => {
      const erp = stack.main.host.erp;
      const made: { id: string; number: string; sendable: boolean }[] = [];
      let n = 0;
      for (const { len, alphabet } of cases) {
        // The id varies in length; the number too, up to what ZenFlow accepts as order_tenant_id.
        const id = ident(len, alphabet, n++);
        const number = ident(Math.min(len, 100), alphabet, n++);
        made.push({ ...(await erp.createOrder(newOrder(9000 + n, { id, number }))), sendable: true });
        if (len > 100) {
          const tooLong = ident(len, alphabet, n++);
          made.push({ ...(await erp.createOrder(newOrder(9000 + n, { id: `long-number-${n}`, number: tooLong }))), sendable: false });
        }
      }
      // Identifiers that a case-insensitive, PAD SPACE or 191-character column would merge.
      const twins = ["caseTwin-Abc", "casetwin-abc", "pad-twin", "pad-twin ", `${"P".repeat(191)}-1`, `${"P".repeat(191)}-2`];
      for (const id of twins) made.push({ ...(await erp.createOrder(newOrder(9000 + ++n, { id, number: `TW-${n}` }))), sendable: true });
      await stack.drain();

      for (const o of made) {
        const job = await stack.db
          .knex("zenflow_outbox")
          .where({ entity_key: entityKey.order(o.id) })
          .first();
        assert.ok(job, `a job for order id of ${[...o.id].length} characters`);
        if (o.sendable) {
          assert.equal(job.status, "done", `${o.number.slice(0, 20)}…: ${job.last_error}`);
          assert.equal(stack.sandbox.order(o.number)?.order_tenant_id, o.number, "in ZenFlow under its exact number");
          const map = await stack.db.knex("zenflow_id_map").where({ entity_type: "order" }).andWhere("erp_id", o.id);
          assert.equal(map.length, 1);
          assert.equal(map[0].erp_id, o.id, "the binding keeps the whole id");
        } else {
          assert.equal(job.status, "dead");
          assert.match(job.last_error, /number is longer than 100 characters/);
        }
      }
      const tenantIds = stack.sandbox.orders().map((o) => o.order_tenant_id);
      assert.equal(new Set(tenantIds).size, tenantIds.length, "no order sent twice");
      assert.equal(made.filter((o) => o.sendable).length, tenantIds.length, "every sendable order sent");
      const keys = (await stack.db.knex("zenflow_outbox").select("entity_key")).map((r) => String(r.entity_key));
      assert.ok(
        keys.every((k) => [...k].length <= 96),
        "keys have a fixed bound",
      );
    });

    it("webhooks for order numbers of every length are applied to the ERP (the per-order lease fits its column)", async () => {
      const erp = stack.main.host.erp;
      const orders = [];
      let n = 100;
      for (const { len, alphabet } of cases) {
        if (len > 100) continue; // ZenFlow's order_tenant_id holds 100
        orders.push(await erp.createOrder(newOrder(9500 + n, { number: ident(len, alphabet, n++) })));
      }
      await stack.drain();
      for (const o of orders) {
        const z = stack.sandbox.order(o.number)!;
        const res = await hook.signed(
          envelope("order/updated", {
            order_id: z.id,
            order_tenant_id: o.number,
            state_id: 3,
            state_name: "Packed",
            updated_at: new Date().toISOString(),
          }),
        );
        assert.equal(res.status, 200);
      }
      await inbox().drain();
      for (const o of orders) {
        assert.equal((await erp.getOrder(o.id))!.status, "ready_to_ship", `order number of ${[...o.number].length} characters`);
        assert.ok(leaseName.inboxEntity(entityKey.inboxOrder(o.number)).length <= 64);
      }
      const waiting = await stack.db.knex("zenflow_inbox").where({ status: "pending" }).count({ n: "*" });
      assert.equal(Number(waiting[0]!.n), 0, "nothing left retrying");
    });

    it("event ids are compared exactly: case and a trailing space make different events", async () => {
      const before = Number((await stack.db.knex("zenflow_inbox").count({ n: "*" }))[0]!.n);
      const answers = [];
      for (const id of ["evt_abc123", "evt_ABC123", "evt_abc123 ", "evt_abç123"]) {
        const body = { ...envelope("flow/started", { flow_id: 1 }), id };
        answers.push((await hook.signed(body)).json.duplicate ?? false);
      }
      assert.deepEqual(answers, [false, false, false, false], "none is a duplicate of another");
      const after = Number((await stack.db.knex("zenflow_inbox").count({ n: "*" }))[0]!.n);
      assert.equal(after - before, 4);
      assert.equal((await hook.signed({ ...envelope("flow/started", { flow_id: 1 }), id: "evt_ABC123" })).json.duplicate, true);
    });

    it("stock keys: SKUs of every length keep one job per location, and every level reaches ZenFlow", async () => {
      const erp = stack.main.host.erp;
      const skus: string[] = [];
      let n = 200;
      for (const { len, alphabet } of cases) {
        const p = await erp.createProduct(newProduct(9700 + n, { sku: ident(len, alphabet, n++), barcode: `779555${n}` }));
        skus.push(p.sku);
      }
      await stack.drain();
      for (const [i, sku] of skus.entries()) {
        await erp.setStock({ sku, locationId: "main", quantity: 10 + i, reason: "count" });
        await erp.setStock({ sku, locationId: "backroom", quantity: 100 + i, reason: "count" });
      }
      await stack.drain();
      for (const [i, sku] of skus.entries()) {
        const jobs = await stack.db
          .knex("zenflow_outbox")
          .where({ kind: "stock" })
          .whereIn("entity_key", [entityKey.stock(sku, "main"), entityKey.stock(sku, "backroom")]);
        assert.equal(jobs.length, 2, `two jobs for a SKU of ${[...sku].length} characters`);
        const level = (loc: string) => stack.sandbox.stock().find((s) => s.sku === sku && s.location_id === loc)?.quantity;
        assert.deepEqual([level("LOC-A1"), level("LOC-A2")], [10 + i, 100 + i], `levels of a SKU of ${[...sku].length} characters`);
      }
    });
  });
}
