// An order made in ZenFlow directly (not by the plugin), with an older header than the ERP's:
// what an earlier, unanswered attempt or a warehouse clerk leaves behind.
import assert from "node:assert/strict";
import { SANDBOX_KEY, type Stack } from "./stack";

export async function createInZenflowByHand(stack: Stack, orderNumber: string): Promise<void> {
  const res = await fetch(`${stack.sandbox.url}/orders`, {
    method: "POST",
    headers: { "X-API-Key": SANDBOX_KEY, "Content-Type": "application/json" },
    body: JSON.stringify({
      order_tenant_id: orderNumber,
      assembly_date: "2026-01-01",
      shipping_address: "Old Street 1",
      order_detail: [{ barcode: "X", quantity: 1 }],
    }),
  });
  assert.equal(res.status, 201);
}
