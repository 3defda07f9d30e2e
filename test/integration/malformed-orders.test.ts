// Issue #10 item 7: ERP orders the mapper used to let through (fractional or 1e308
// quantities, prices beyond a number, control characters in the order number, no address or
// customer name, a customer name that is not text) each become a dead letter naming the field
// to fix; nothing malformed reaches the sandbox, and the rest of the batch still goes.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { newOrder } from "../support/builders";
import { testDbKinds } from "../support/db";
import { startStack, type Stack } from "../support/stack";
import { insertRawOrder, wellFormedOrder } from "../support/raw-orders";

const CASES: { name: string; patch: Record<string, unknown>; error: RegExp }[] = [
  {
    name: "fractional quantity",
    patch: { items: [{ sku: "F-1", quantity: 1.5, unitPrice: "2" }] },
    error: /items\[0\] \(F-1\)\.quantity is 1\.5: quantities must be whole units/,
  },
  {
    name: "1e308 units",
    patch: { items: [{ sku: "F-2", quantity: 1e308, unitPrice: "2" }] },
    error: /items\[0\] \(F-2\)\.quantity is 1e\+308: more than 1,000,000 units/,
  },
  {
    name: "a price too large for a number",
    patch: { items: [{ sku: "F-3", quantity: 1, unitPrice: `1${"0".repeat(400)}` }] },
    error: /items\[0\] \(F-3\)\.unitPrice .* is not a non-negative decimal amount/,
  },
  {
    name: "a price with more precision than a number holds",
    patch: { items: [{ sku: "F-4", quantity: 1, unitPrice: "0.1234567890123456789" }] },
    error: /unitPrice/,
  },
  { name: "NUL in the order number", patch: { number: "SO-NUL\u0000X" }, error: /number contains a control character/ },
  { name: "CR LF in the order number", patch: { number: "SO-CRLF\r\nX-Injected: 1" }, error: /number contains a control character/ },
  { name: "no shipping address", patch: { shippingAddress: null }, error: /shippingAddress is missing/ },
  {
    name: "an address without a street",
    patch: { shippingAddress: { line1: " ", city: "Rosario", postalCode: "2000", country: "AR" } },
    error: /shippingAddress\.line1 is empty/,
  },
  { name: "no customer", patch: { customer: null }, error: /customer is missing/ },
  { name: "an empty customer name", patch: { customer: { name: "  " } }, error: /customer\.name is empty/ },
  { name: "a customer name that is a number", patch: { customer: { name: 42 } }, error: /customer\.name is not text \(number\)/ },
  {
    name: "a customer name that is an object",
    patch: { customer: { name: { first: "Ana" } } },
    error: /customer\.name is not text \(object\)/,
  },
  {
    name: "a SKU that is not text",
    patch: { items: [{ sku: 7, barcode: "779", quantity: 1, unitPrice: "2" }] },
    error: /items\[0\]\.sku is not text/,
  },
];

for (const kind of testDbKinds()) {
  describe(`malformed ERP orders [${kind}]`, () => {
    let stack: Stack;
    before(async () => {
      stack = await startStack(kind, { plugin: { autoStart: false } });
    });
    after(async () => stack?.close());

    it("each malformed order is a dead letter naming its field; the good ones of the same batch are sent; nothing malformed is sent", async () => {
      const ids: { id: string; error: RegExp; name: string }[] = [];
      for (const [i, c] of CASES.entries()) {
        const id = await insertRawOrder(stack, { ...newOrder(13_000 + i), number: `SO-BAD-${i}`, ...c.patch });
        ids.push({ id, error: c.error, name: c.name });
      }
      const good = await stack.main.host.erp.createOrder(newOrder(13_100));
      await stack.drain();
      for (const { id, error, name } of ids) {
        const job = await stack.db
          .knex("zenflow_outbox")
          .where({ entity_key: `order:${id}` })
          .first();
        assert.equal(job?.status, "dead", name);
        assert.match(job.last_error, error, name);
      }
      assert.ok(stack.sandbox.order(good.number), "the good order went through");
      const sent = stack.sandbox.requests().filter((r) => r.method === "POST" && r.path.endsWith("/orders"));
      for (const r of sent)
        for (const o of (r.body as { orders: unknown[] }).orders) assert.deepEqual(wellFormedOrder(o), [], JSON.stringify(o));
      assert.equal(stack.sandbox.orders().length, 1);
    });
  });
}
