// Products, stock and webhooks against a real Vendure: a variant price change becomes one
// bulk upsert; the settings page's API switches stock ownership to ZenFlow (admin auth,
// secrets never returned); a stock/updated webhook sets Vendure's stock level without an
// echo; a forged webhook changes nothing.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { testDbKinds } from "../../../test/support/db";
import type { GraphqlClient } from "./support/graphql";
import { eventually, openSuite, placeOrder, runTask, SANDBOX_KEY, type VendureStack } from "./support/stack";

const SANDBOX_LOCATION = "LOC-A1";

async function variantStock(admin: GraphqlClient, id: string): Promise<number> {
  const r = await admin.query<{ productVariant: { stockLevels: { stockLocationId: string; stockOnHand: number }[] } }>(
    `query($id: ID!) { productVariant(id: $id) { stockLevels { stockLocationId stockOnHand } } }`,
    { id },
  );
  return r.productVariant.stockLevels.reduce((n, l) => n + l.stockOnHand, 0);
}

for (const kind of testDbKinds()) {
  describe(`Vendure adapter: catalog, stock, webhooks [${kind}]`, () => {
    let stack: VendureStack;
    let admin: GraphqlClient;
    let ids: Record<string, string>;
    const settings = (init: RequestInit = {}, token = admin.token) =>
      fetch(`${stack.vendure.url}/admin/zenflow/api/settings`, {
        ...init,
        headers: { "content-type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}), ...init.headers },
      });

    before(async () => {
      ({ stack, admin, ids } = await openSuite(kind));
    });
    after(async () => {
      await stack?.close();
    });

    it("a variant price change in Vendure sends one bulk product upsert with the new price", async () => {
      const r = await admin.query<{ updateProductVariants: { price: number }[] }>(
        `mutation($id: ID!) { updateProductVariants(input: [{ id: $id, price: 1390 }]) { price } }`,
        { id: ids["MATE-1KG"] },
      );
      assert.equal(r.updateProductVariants[0]!.price, 1390);
      const bulks = () =>
        stack.control.requests().then((rs) => rs.filter((q) => q.method === "POST" && q.path.endsWith("/products/bulk") && JSON.stringify(q.body).includes("MATE-1KG")));
      await eventually(async () => (await bulks()).length > 0, 10_000, "a bulk upsert");
      await new Promise((res) => setTimeout(res, 500));
      const sent = await bulks();
      assert.equal(sent.length, 1);
      const item = (sent[0]!.body as { products: { sku?: string; barcode: string; price?: number }[] }).products.find((p) => p.sku === "MATE-1KG");
      assert.deepEqual({ barcode: item?.barcode, price: item?.price }, { barcode: "7790000000011", price: 13.9 });
    });

    it("the settings API needs a Vendure admin and never returns the API key", async () => {
      assert.equal((await settings({}, null)).status, 401);
      const customer = stack.vendure.shop();
      await customer.query(`{ activeChannel { id } }`);
      assert.equal((await settings({}, customer.token)).status, 401);
      const res = await settings();
      assert.equal(res.status, 200);
      const text = await res.text();
      assert.ok(!text.includes(SANDBOX_KEY), "the API key must never be sent back");
      const body = JSON.parse(text) as { values: Record<string, unknown>; secretsSet: Record<string, boolean> };
      assert.equal(body.secretsSet.apiKey, true);
      assert.deepEqual(body.values.eligibleStatuses, ["PaymentSettled"]);
      const bad = await settings({ method: "PUT", body: JSON.stringify({ stockSource: "warehouse" }) });
      assert.equal(bad.status, 422);
      const page = await fetch(`${stack.vendure.url}/admin/zenflow/`, { headers: { Authorization: `Bearer ${admin.token}` } });
      assert.equal(page.status, 200);
      const html = await page.text();
      assert.match(html, /ZenFlow warehouse sync/);
      assert.match(html, /Import catalog/);
      assert.ok(!html.includes(SANDBOX_KEY));
      assert.equal(page.headers.get("x-frame-options"), "SAMEORIGIN");
    });

    it("the settings page signs in with Vendure admin credentials; forms need the CSRF token; the plugin dashboard opens", async () => {
      const url = stack.vendure.url;
      const login = (password: string) =>
        fetch(`${url}/admin/zenflow/login`, {
          method: "POST",
          redirect: "manual",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({ username: "superadmin", password, next: "/admin/zenflow/" }).toString(),
        });
      assert.equal((await login("wrong")).status, 401);
      const ok = await login("superadmin");
      assert.equal(ok.status, 303);
      const cookie = (ok.headers.get("set-cookie") ?? "").split(";")[0]!;
      assert.match(cookie, /^zenflow_admin=/);
      const anon = await fetch(`${url}/admin/zenflow/`, { redirect: "manual", headers: { accept: "text/html" } });
      assert.equal(anon.status, 302);
      assert.match(anon.headers.get("location") ?? "", /\/admin\/zenflow\/login\?next=/);
      const page = await fetch(`${url}/admin/zenflow/`, { headers: { cookie } });
      assert.equal(page.status, 200);
      const csrf = /name="csrf" value="([^"]+)"/.exec(await page.text())?.[1];
      assert.ok(csrf);
      const post = (body: Record<string, string>) =>
        fetch(`${url}/admin/zenflow/settings`, { method: "POST", headers: { cookie, "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(body).toString() });
      assert.equal((await post({ retentionDays: "31" })).status, 403);
      const saved = await post({ csrf, retentionDays: "31" });
      assert.equal(saved.status, 200);
      assert.match(await saved.text(), /Settings saved/);
      const dashboard = await fetch(`${url}/admin/plugins/zenflow/`, { headers: { cookie } });
      assert.equal(dashboard.status, 200);
      assert.equal(dashboard.headers.get("x-frame-options"), "SAMEORIGIN");
      assert.equal((await fetch(`${url}/admin/plugins/zenflow/`)).status, 401);
    });

    it("with stockSource = zenflow, a stock/updated webhook sets Vendure's stock level and nothing echoes back", async () => {
      const saved = await settings({ method: "PUT", body: JSON.stringify({ stockSource: "zenflow", locationMap: { "1": SANDBOX_LOCATION } }) });
      assert.equal(saved.status, 200, await saved.text());
      await eventually(() => stack.plugin.runtime()?.engine?.config.stockSource === "zenflow", 5000, "the new settings in the engine");
      // The restarted engine subscribes to stock/updated too (its start runs the task; else we do).
      await eventually(async () => {
        if ((await stack.control.state()).webhooks.some((w) => w.events.includes("stock/updated"))) return true;
        await runTask(stack, "webhook-subscription");
        return false;
      }, 10_000, "a subscription with stock/updated");
      const created = await fetch(`${stack.sandbox.url}/products`, {
        method: "POST",
        headers: { "X-API-Key": SANDBOX_KEY, "content-type": "application/json" },
        body: JSON.stringify({ name: "Termo 1 l", barcode: "7790000000035", sku: "TERMO-1L" }),
      });
      assert.equal(created.status, 201);
      const before = await stack.control.requests();
      await stack.control.setStock("TERMO-1L", SANDBOX_LOCATION, 42);
      await eventually(async () => (await variantStock(admin, ids["TERMO-1L"]!)) === 42, 10_000, "Vendure stock 42");
      await new Promise((res) => setTimeout(res, 500));
      const after = (await stack.control.requests()).slice(before.length);
      assert.deepEqual(after.filter((q) => q.method !== "GET" && q.path.includes("/stock")), []);
    });

    it("a forged webhook changes nothing", async () => {
      const code = await placeOrder(stack.vendure, [{ variantId: ids["BOMB-01"]!, quantity: 1 }]);
      await eventually(() => stack.control.order(code), 10_000, `order ${code} in ZenFlow`);
      const hook = (await stack.control.state()).webhooks.at(-1)!;
      const body = JSON.stringify({
        id: "evt_forged_1",
        event: "order/completed",
        created_at: new Date().toISOString(),
        data: { order_tenant_id: code, state_name: "Completed", tracking_number: "FORGED-1" },
      });
      const forged = await fetch(hook.url, { method: "POST", headers: { "content-type": "application/json", "X-ZenFlow-Signature": "sha256=" + "0".repeat(64) }, body });
      assert.equal(forged.status, 401);
      const unsigned = await fetch(hook.url, { method: "POST", headers: { "content-type": "application/json" }, body });
      assert.equal(unsigned.status, 401);
      const wrongPath = await fetch(hook.url.replace(/\/webhooks\/.*/, "/webhooks/not-the-token"), { method: "POST", body });
      assert.equal(wrongPath.status, 404);
      await new Promise((res) => setTimeout(res, 500));
      const r = await admin.query<{ orders: { items: { state: string; fulfillments: unknown[] }[] } }>(
        `query($code: String!) { orders(options: { filter: { code: { eq: $code } } }) { items { state fulfillments { id } } } }`,
        { code },
      );
      assert.deepEqual(r.orders.items[0], { state: "PaymentSettled", fulfillments: [] });
    });
  });
}
