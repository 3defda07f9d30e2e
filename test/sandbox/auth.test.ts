// Auth codes, scopes, envelope and generic error shapes.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startSandbox, type Sandbox } from "../../dev/sandbox/index";
import { call, order } from "./helpers";

describe("sandbox auth and envelope", () => {
  let sb: Sandbox;
  before(async () => {
    sb = await startSandbox({
      keys: [
        { key: "zenflow_test_sandbox", scopes: ["admin"] },
        { key: "zenflow_test_readonly", scopes: ["read:orders", "read:products", "read:stock"] },
        { key: "zenflow_test_hooksrd", scopes: ["read:webhooks"] },
      ],
    });
  });
  after(() => sb.close());

  it("answers 401 with the documented codes for missing, unknown, expired and revoked keys", async () => {
    sb.addKey({ key: "zenflow_test_expired1", scopes: ["admin"], status: "expired" });
    sb.addKey({ key: "zenflow_test_revoked1", scopes: ["admin"] });
    sb.setKeyStatus("zenflow_test_revoked1", "revoked");
    const cases: [string | null, string, string][] = [
      [null, "missing_api_key", "API key is required"],
      ["zenflow_live_nope", "invalid_api_key", "The API key provided is invalid"],
      ["zenflow_test_expired1", "expired_api_key", "API key has expired"],
      ["zenflow_test_revoked1", "revoked_api_key", "API key was revoked"],
    ];
    for (const [key, code, message] of cases) {
      const r = await call(sb, "GET", "/orders", { key });
      assert.equal(r.status, 401);
      assert.deepEqual(r.body, { success: false, error: { code, message } });
      assert.equal(r.headers.get("x-ratelimit-limit"), null, "unauthenticated answers carry no rate headers");
    }
    // Unknown route still needs a key.
    assert.equal((await call(sb, "GET", "/nowhere", { key: null })).status, 401);
  });

  it("checks the scope of each endpoint; admin satisfies everything", async () => {
    const ro = "zenflow_test_readonly";
    assert.equal((await call(sb, "GET", "/orders", { key: ro })).status, 200);
    const denied = await call(sb, "POST", "/orders", { key: ro, body: order("SCOPE-1") });
    assert.equal(denied.status, 403);
    assert.deepEqual(denied.body.error, {
      code: "insufficient_scope",
      message: "This API key does not have the required scope: write:orders",
    });
    assert.equal(sb.orders().length, 0, "nothing created without the scope");
    const hooks = await call(sb, "GET", "/webhooks", { key: ro });
    assert.equal(hooks.body.error.message, "This API key does not have the required scope: read:webhooks");
    assert.equal((await call(sb, "GET", "/webhooks", { key: "zenflow_test_hooksrd" })).status, 200);
    const w = await call(sb, "POST", "/webhooks", {
      key: "zenflow_test_hooksrd",
      body: { name: "x", url: "http://127.0.0.1:1/h", events: ["order/created"] },
    });
    assert.equal(w.body.error.message, "This API key does not have the required scope: write:webhooks");
    assert.equal(
      (await call(sb, "PUT", "/stock/product/100", { key: ro, body: {} })).body.error.message,
      "This API key does not have the required scope: write:stock",
    );
    sb.setKeyScopes(ro, ["write:orders"]);
    assert.equal((await call(sb, "POST", "/orders", { key: ro, body: order("SCOPE-2") })).status, 201);
    assert.equal((await call(sb, "GET", "/orders", { key: ro })).status, 403);
    sb.setKeyScopes(ro, ["read:orders", "read:products", "read:stock"]);
  });

  it("uses the documented envelope, 400 validation errors with details, 404 for unknown routes", async () => {
    const list = await call(sb, "GET", "/orders");
    assert.equal(list.status, 200);
    assert.equal(list.body.success, true);
    assert.ok(Array.isArray(list.body.data.orders));
    assert.deepEqual(Object.keys(list.body.data.pagination).sort(), ["limit", "page", "total", "total_pages"]);

    const bad = await call(sb, "POST", "/orders", { rawBody: "{not json" });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, "validation_error");
    assert.equal(bad.body.error.message, "Invalid JSON body");
    assert.ok(Array.isArray(bad.body.error.details));

    const unknown = await call(sb, "GET", "/integrations/shopify/status");
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, "not_found");
    // No delete/update endpoint for webhooks exists in the docs.
    assert.equal((await call(sb, "DELETE", "/webhooks/wh_123")).status, 404);

    const badId = await call(sb, "GET", "/orders/abc");
    assert.equal(badId.status, 400);
    assert.deepEqual(badId.body.error, { code: "invalid_id", message: "Order ID must be a valid integer" });
    const missing = await call(sb, "GET", "/orders/999999");
    assert.deepEqual([missing.status, missing.body.error.message], [404, "Order not found"]);

    const badPage = await call(sb, "GET", "/orders?limit=0");
    assert.equal(badPage.status, 400);
    assert.deepEqual(badPage.body.error.details, [{ field: "limit", message: "Must be an integer greater than or equal to 1" }]);
    const clamped = await call(sb, "GET", "/orders?limit=500");
    assert.equal(clamped.body.data.pagination.limit, 100);
  });

  it("logs requests with only the last 4 characters of the key", async () => {
    await call(sb, "POST", "/orders", { body: order("LOG-1") });
    const entries = sb.requests();
    const last = entries[entries.length - 1]!;
    assert.equal(last.key, "dbox");
    assert.equal(last.method, "POST");
    assert.equal(last.path, "/api/v1/orders");
    assert.equal(last.status, 201);
    assert.equal((last.body as { order_tenant_id: string }).order_tenant_id, "LOG-1");
    assert.ok(!JSON.stringify(entries).includes("zenflow_test_"), "no full key anywhere in the log");
  });
});
