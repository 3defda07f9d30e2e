// Issue #11 acceptance against a real Vendure (in-process, @vendure/testing) on SQLite and
// MariaDB, with the ZenFlow sandbox over HTTP: orders placed through the Shop API, the
// warehouse's answers as signed webhooks, cancellations, product and stock changes, forged
// webhooks, and a restart in the middle of a burst.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { testDbKinds } from "../../../test/support/db";
import { eventually, openSuite, placeOrder, SHOPPER, type VendureStack } from "./support/stack";
import type { GraphqlClient } from "./support/graphql";

interface AdminOrder {
  id: string;
  code: string;
  state: string;
  fulfillments: { state: string; trackingCode: string; method: string; handlerCode?: string }[];
  history: { items: { type: string; data: Record<string, unknown> }[] };
}

const ORDER_FIELDS = `id code state fulfillments { state trackingCode method } history(options: { take: 100 }) { items { type data } }`;

async function adminOrder(admin: GraphqlClient, code: string): Promise<AdminOrder> {
  const r = await admin.query<{ orders: { items: AdminOrder[] } }>(
    `query($code: String!) { orders(options: { filter: { code: { eq: $code } } }) { items { ${ORDER_FIELDS} } } }`,
    { code },
  );
  const order = r.orders.items[0];
  if (!order) throw new Error(`no Vendure order ${code}`);
  return order;
}

for (const kind of testDbKinds()) {
  describe(`Vendure adapter [${kind}]`, () => {
    let stack: VendureStack;
    let admin: GraphqlClient;
    let ids: Record<string, string>;

    before(async () => {
      ({ stack, admin, ids } = await openSuite(kind));
    });
    after(async () => {
      await stack?.close();
    });

    it("an order placed through the Shop API reaches ZenFlow once, with its lines, customer and address", async () => {
      const code = await placeOrder(stack.vendure, [
        { variantId: ids["MATE-1KG"]!, quantity: 2 },
        { variantId: ids["ALF-12"]!, quantity: 1 },
      ]);
      const zf = await eventually(() => stack.control.order(code), 10_000, `order ${code} in ZenFlow`);
      assert.equal(zf.customer_name, SHOPPER.address.fullName);
      assert.match(zf.shipping_address ?? "", /Av\. Corrientes 1234/);
      assert.match(zf.shipping_address ?? "", /Buenos Aires/);
      const lines = zf.order_detail.map((l) => ({ barcode: l.barcode, quantity: l.quantity, price: l.price })).sort((a, b) => a.barcode.localeCompare(b.barcode));
      // ALF-12 has no barcode in Vendure: its SKU stands in (productBarcodeFallback = use-sku).
      assert.deepEqual(lines, [
        { barcode: "7790000000011", quantity: 2, price: 12.5 },
        { barcode: "ALF-12", quantity: 1, price: 19.9 },
      ]);
      // Exactly once: one create request carried it, and ZenFlow holds one order for the code.
      await new Promise((r) => setTimeout(r, 300));
      const creates = (await stack.control.requests()).filter(
        (q) => q.method === "POST" && q.path.endsWith("/orders") && JSON.stringify(q.body).includes(code) && q.status !== null && q.status < 300,
      );
      assert.equal(creates.length, 1);
      assert.equal((await stack.control.state()).orders.filter((o) => o.order_tenant_id === code).length, 1);
    });

    it("ZenFlow's Completed webhook with a tracking number gives the Vendure order a Shipped fulfilment with that code", async () => {
      const code = await placeOrder(stack.vendure, [{ variantId: ids["BOMB-01"]!, quantity: 3 }]);
      await eventually(() => stack.control.order(code), 10_000, `order ${code} in ZenFlow`);
      await stack.control.advance(code, "In Progress");
      await eventually(async () => (await adminOrder(admin, code)).state === "Picking", 10_000, "Vendure order in Picking");
      await stack.control.advance(code, "Completed", { trackingNumber: "TRK-AR-0001", carrier: "Andreani" });
      const shipped = await eventually(async () => {
        const o = await adminOrder(admin, code);
        return o.state === "Shipped" ? o : null;
      }, 10_000, "Vendure order Shipped");
      assert.equal(shipped.fulfillments.length, 1);
      assert.deepEqual(
        { state: shipped.fulfillments[0]!.state, trackingCode: shipped.fulfillments[0]!.trackingCode, method: shipped.fulfillments[0]!.method },
        { state: "Shipped", trackingCode: "TRK-AR-0001", method: "Andreani" },
      );
      // Nothing went back to ZenFlow for the changes ZenFlow itself caused (echo suppression).
      await new Promise((r) => setTimeout(r, 300));
      const echoes = (await stack.control.requests()).filter((q) => q.method === "PUT" && q.path.includes("/orders/"));
      assert.equal(echoes.length, 0);
    });

    it("a cancellation in Vendure cancels the order in ZenFlow", async () => {
      const code = await placeOrder(stack.vendure, [{ variantId: ids["TERMO-1L"]!, quantity: 1 }]);
      await eventually(() => stack.control.order(code), 10_000, `order ${code} in ZenFlow`);
      const order = await adminOrder(admin, code);
      const r = await admin.query<{ cancelOrder: { state?: string; message?: string } }>(
        `mutation($id: ID!) { cancelOrder(input: { orderId: $id, reason: "customer changed their mind" }) { ... on Order { state } ... on ErrorResult { message } } }`,
        { id: order.id },
      );
      assert.equal(r.cancelOrder.state, "Cancelled", r.cancelOrder.message);
      const zf = await eventually(async () => {
        const o = await stack.control.order(code);
        return o?.state_name === "Cancelled" ? o : null;
      }, 10_000, "ZenFlow order cancelled");
      assert.equal(zf.cancelled_by, "api");
    });
  });
}
