// HTTP (contract section 4): plugin routers, admin authentication, unmounting on disable,
// the host's admin screens and its /erp JSON API.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import request from "supertest";
import type { Host } from "../../dev/host";
import { createTestDb, testDbKinds, type TestDb } from "../support/db";
import { ADMIN_TOKEN, sampleOrder, startTestHost, type FixturePlugin } from "./helpers";

const BEARER = `Bearer ${ADMIN_TOKEN}`;

for (const kind of testDbKinds()) {
  describe(`HTTP (${kind})`, () => {
    let db: TestDb;
    let host: Host;
    let plugin: FixturePlugin;
    before(async () => {
      db = await createTestDb(kind);
      ({ host, plugin } = await startTestHost(db.knex));
      await host.enable();
    });
    after(async () => {
      await host.close();
      await db.destroy();
    });

    test("/healthz answers without auth and without plugin details", async () => {
      const res = await request(host.url).get("/healthz").expect(200);
      assert.deepEqual(res.body, { status: "ok" });
    });

    test("the public router is reachable without auth and gets the raw body", async () => {
      const ping = await request(host.url).get("/plugins/hostfix/ping").expect(200);
      assert.deepEqual(ping.body, { ok: true, id: "hostfix", publicUrl: `${host.url}/plugins/hostfix` });
      const raw = '{"b": 2,  "a": 1}';
      const echo = await request(host.url).post("/plugins/hostfix/echo").set("content-type", "application/json").send(raw).expect(200);
      assert.deepEqual(echo.body, { bodyWasParsed: false, raw });
    });

    test("the admin router needs admin auth: bearer or the login cookie", async () => {
      const denied = await request(host.url).get("/admin/plugins/hostfix/status").expect(401);
      assert.deepEqual(denied.body, { error: "admin authentication required" });
      await request(host.url).get("/admin/plugins/hostfix/status").set("authorization", "Bearer wrong").expect(401);
      await request(host.url).get("/admin/plugins/hostfix/status").set("cookie", "erp_admin=wrong").expect(401);
      await request(host.url).get("/admin/plugins/hostfix/status").set("authorization", BEARER).expect(200);

      await request(host.url).get("/admin/login?token=wrong").expect(401);
      const login = await request(host.url)
        .get(`/admin/login?token=${encodeURIComponent(ADMIN_TOKEN)}`)
        .expect(303);
      assert.equal(login.headers.location, "/admin");
      const setCookie = ([] as string[]).concat(login.headers["set-cookie"] ?? []);
      assert.equal(setCookie.length, 1);
      assert.match(setCookie[0]!, /^erp_admin=/);
      assert.match(setCookie[0]!, /HttpOnly/i);
      assert.match(setCookie[0]!, /SameSite=Lax/i);
      const cookie = setCookie[0]!.split(";")[0]!;
      const status = await request(host.url).get("/admin/plugins/hostfix/status").set("cookie", cookie).expect(200);
      assert.equal(typeof status.body.events, "number");
      const page = await request(host.url).get("/admin").set("cookie", cookie).expect(200);
      assert.match(page.text, /Host test fixture/);
    });

    test("routers are gone after disable and back after enable", async () => {
      await host.disable();
      try {
        await request(host.url).get("/plugins/hostfix/ping").expect(404);
        await request(host.url).get("/admin/plugins/hostfix/status").set("authorization", BEARER).expect(404);
        await request(host.url).get("/admin/plugins/hostfix/status").expect(401);
      } finally {
        await host.enable();
      }
      await request(host.url).get("/plugins/hostfix/ping").expect(200);
      await request(host.url).get("/admin/plugins/hostfix/status").set("authorization", BEARER).expect(200);
    });

    test("admin screens: plugin list with health, plugin manager, actions, enable/disable", async () => {
      await request(host.url).get("/admin").expect(401);
      const loginForm = await request(host.url).get("/admin").set("accept", "text/html").expect(401);
      assert.match(loginForm.text, /Admin token/);
      await host.health();
      const list = await request(host.url).get("/admin").set("authorization", BEARER).expect(200);
      assert.match(list.text, /status-unconfigured/);
      assert.match(list.text, /no API key yet/);

      const manager = await request(host.url).get("/admin/plugin-manager/hostfix").set("authorization", BEARER).expect(200);
      assert.match(manager.text, /Test connection/);
      assert.match(manager.text, /action="\/admin\/plugin-manager\/hostfix\/actions\/ping"/);
      await request(host.url).get("/admin/plugin-manager/other").set("authorization", BEARER).expect(404);

      const action = await request(host.url)
        .post("/admin/plugin-manager/hostfix/actions/ping")
        .set("authorization", BEARER)
        .send({ input: { x: 1 } })
        .expect(200);
      assert.deepEqual(action.body, { ok: true, message: "pong from hostfix", details: { input: { x: 1 } } });
      const failed = await request(host.url)
        .post("/admin/plugin-manager/hostfix/actions/explode")
        .set("authorization", BEARER)
        .set("accept", "text/html")
        .expect(200);
      assert.match(failed.text, /explode:<\/strong> failed — action exploded/);

      await request(host.url).post("/admin/plugin-manager/hostfix/disable").set("authorization", BEARER).expect(303);
      assert.equal(host.state, "installed");
      await request(host.url).post("/admin/plugin-manager/hostfix/enable").set("authorization", BEARER).expect(303);
      assert.equal(host.state, "active");
    });

    test("the /erp JSON API drives the ERP and its events", async () => {
      await request(host.url).post("/erp/orders").send(sampleOrder(1)).expect(401);
      const before = plugin.state.events.length;
      const created = await request(host.url).post("/erp/orders").set("authorization", BEARER).send(sampleOrder(1)).expect(201);
      const id = created.body.id as string;
      assert.equal(plugin.state.events.length, before + 1);
      await request(host.url).patch(`/erp/orders/${id}`).set("authorization", BEARER).send({ status: "picking" }).expect(200);
      await request(host.url).patch(`/erp/orders/${id}`).set("authorization", BEARER).send({ status: "lost" }).expect(400);
      await request(host.url).post(`/erp/orders/${id}/cancel`).set("authorization", BEARER).send({ reason: "r" }).expect(200);
      const got = await request(host.url).get(`/erp/orders/${id}`).set("authorization", BEARER).expect(200);
      assert.equal(got.body.order.status, "cancelled");
      assert.deepEqual(
        got.body.history.map((h: { what: string }) => h.what),
        ["created", "status", "status", "cancel_reason"],
      );
      assert.deepEqual(got.body.notes, []);
      assert.equal(got.body.shipment, null);
      await request(host.url).get("/erp/orders/ord_nope").set("authorization", BEARER).expect(404);

      const product = await request(host.url)
        .post("/erp/products")
        .set("authorization", BEARER)
        .send({ sku: "HTTP-1", name: "Via HTTP" })
        .expect(201);
      await request(host.url).post("/erp/products").set("authorization", BEARER).send({ sku: "HTTP-1", name: "Again" }).expect(409);
      await request(host.url).patch(`/erp/products/${product.body.id}`).set("authorization", BEARER).send({ name: "Renamed" }).expect(200);
      const put = await request(host.url)
        .put("/erp/stock")
        .set("authorization", BEARER)
        .send({ sku: "HTTP-1", locationId: "main", quantity: 4, reason: "count" })
        .expect(200);
      assert.equal(put.body.previousQuantity, 0);
      const stock = await request(host.url).get("/erp/stock?sku=HTTP-1&locationId=main").set("authorization", BEARER).expect(200);
      assert.deepEqual(stock.body, { sku: "HTTP-1", locationId: "main", quantity: 4 });
      await request(host.url).delete(`/erp/products/${product.body.id}`).set("authorization", BEARER).expect(204);

      const fired = await request(host.url)
        .post("/erp/events")
        .set("authorization", BEARER)
        .send({ name: "order.updated", payload: created.body, meta: { eventId: "11111111-1111-4111-8111-111111111111" } })
        .expect(200);
      assert.equal(fired.body.meta.eventId, "11111111-1111-4111-8111-111111111111");
      assert.equal(plugin.state.events.at(-1)?.meta.eventId, "11111111-1111-4111-8111-111111111111");
      const stats = await request(host.url).get("/erp/event-stats").set("authorization", BEARER).expect(200);
      assert.ok(stats.body.some((s: { name: string; count: number }) => s.name === "order.updated" && s.count >= 2));
      await request(host.url)
        .post("/erp/orders")
        .set("authorization", BEARER)
        .set("content-type", "application/json")
        .send("{bad json")
        .expect(400);
    });
  });
}
