// A Vendure restart in the middle of a burst of orders: every placed order reaches ZenFlow
// exactly once — nothing is duplicated by the restart, nothing is lost across it.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { testDbKinds } from "../../../test/support/db";
import { eventually, placeOrder, startVendureStack, variantIds, type VendureStack } from "./support/stack";

for (const kind of testDbKinds()) {
  describe(`Vendure adapter: restart mid-burst [${kind}]`, () => {
    let stack: VendureStack;
    before(async () => {
      stack = await startVendureStack(kind);
    });
    after(async () => {
      await stack?.close();
    });

    it("orders placed before, during and after a restart are each in ZenFlow once", async () => {
      const ids = await variantIds(stack.vendure);
      const lines = [{ variantId: ids["MATE-1KG"]!, quantity: 1 }];
      const lane = async (n: number) => {
        for (let i = 0; i < n; i++) await placeOrder(stack.vendure, lines).catch(() => undefined);
      };
      await Promise.all([lane(4), lane(4)]);
      // Shoppers keep checking out while Vendure stops and starts: some of these fail (the
      // server is down), some land just before the stop.
      await Promise.all([stack.vendure.restart(), lane(3), lane(3)]);
      await Promise.all([lane(4), lane(4)]);

      const admin = await stack.vendure.admin();
      const placed = await admin.query<{ orders: { items: { code: string }[]; totalItems: number } }>(
        `{ orders(options: { take: 100, filter: { active: { eq: false } } }) { items { code } totalItems } }`,
      );
      const codes = placed.orders.items.map((o) => o.code).sort();
      assert.ok(codes.length >= 16, `expected at least the 16 orders placed outside the restart, got ${codes.length}`);
      const inZenflow = await eventually(async () => {
        const got = (await stack.control.state()).orders.map((o) => o.order_tenant_id);
        return got.length >= codes.length ? got : null;
      }, 20_000, "every placed order in ZenFlow");
      await new Promise((r) => setTimeout(r, 500));
      const final = (await stack.control.state()).orders.map((o) => o.order_tenant_id).sort();
      assert.equal(new Set(final).size, final.length, "an order was created twice in ZenFlow");
      assert.deepEqual(final, codes);
      assert.ok(inZenflow.length >= codes.length);
    });
  });
}
