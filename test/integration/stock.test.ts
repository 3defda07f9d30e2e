// Issue #3 acceptance, stock: each stockSource behaves as described, changes coalesce into
// bulk requests, bad rows are isolated, and nothing echoes in either direction.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Host } from "../../dev/host";
import { testDbKinds } from "../support/db";
import { eventually, startStack, type Stack } from "../support/stack";
import { readProgress } from "../../plugin/core/runs";
import { newProduct } from "../support/builders";

const CONFIG = {
  rateLimitPerMinute: 100_000,
  rateLimitPerHour: 1_000_000,
  rateLimitPerDay: 10_000_000,
  locationMap: { main: "LOC-A1" },
};
const SANDBOX = { limits: { perMinute: 100_000, perHour: 1_000_000, perDay: 10_000_000 } };

async function withProducts(stack: Stack, n: number) {
  const products = [];
  for (let i = 0; i < n; i++) products.push(await stack.main.host.erp.createProduct(newProduct(50_000 + i)));
  await stack.drain();
  return products;
}

function stockBulk(stack: Stack) {
  return stack.sandbox.requests().filter((r) => r.path.endsWith("/stock/bulk") && r.status !== null && r.status < 300);
}

function zfLevel(stack: Stack, sku: string, location: string) {
  return stack.sandbox.stock().find((s) => s.sku === sku && s.location_id === location)?.quantity;
}

async function setConfig(stack: Stack, patch: Record<string, unknown>) {
  const host: Host = stack.main.host;
  assert.deepEqual(await host.saveConfig({ ...stack.config, ...patch }), { ok: true });
}

for (const kind of testDbKinds()) {
  describe(`stock [${kind}]`, () => {
    it("ERP as source: changes coalesce per SKU and location into bulk requests; own writes never echo", async () => {
      const stack = await startStack(kind, { sandbox: SANDBOX, config: { ...CONFIG, stockSource: "erp" }, plugin: { autoStart: false } });
      try {
        const [a, b, c] = await withProducts(stack, 3);
        const erp = stack.main.host.erp;
        for (let q = 1; q <= 10; q++) await erp.setStock({ sku: a!.sku, locationId: "main", quantity: q, reason: "count" });
        await erp.setStock({ sku: b!.sku, locationId: "main", quantity: 7, reason: "count" });
        await erp.setStock({ sku: c!.sku, locationId: "main", quantity: 1, reason: "count" });
        await stack.drain();
        assert.equal(stockBulk(stack).length, 1, "12 changes, one request");
        assert.equal(zfLevel(stack, a!.sku, "LOC-A1"), 10);
        assert.equal(zfLevel(stack, b!.sku, "LOC-A1"), 7);
        assert.equal(zfLevel(stack, c!.sku, "LOC-A1"), 1);
        // A write the plugin itself makes through ctx.erp (as when applying ZenFlow's level) is not pushed.
        await stack.main.host.ctx.erp.stock.set({ sku: a!.sku, locationId: "main", quantity: 3, reason: "from ZenFlow" });
        await stack.drain();
        assert.equal(stockBulk(stack).length, 1, "no echo");
        assert.equal(Number((await stack.db.knex("zenflow_outbox").where({ kind: "stock" }).count({ n: "*" }))[0]!.n), 3);
      } finally {
        await stack.close();
      }
    });

    it("a negative quantity or an unknown location is a dead letter of its own; the rest of the batch goes through", async () => {
      const stack = await startStack(kind, { sandbox: SANDBOX, config: { ...CONFIG, stockSource: "erp" }, plugin: { autoStart: false } });
      try {
        const [a, b, c] = await withProducts(stack, 3);
        const erp = stack.main.host.erp;
        await erp.setStock({ sku: a!.sku, locationId: "main", quantity: 5, reason: "count" });
        await erp.setStock({ sku: b!.sku, locationId: "backroom", quantity: 2, reason: "count" }); // not mapped: ZenFlow has no "backroom"
        // The ERP refuses negative stock itself; a buggy ERP could still announce one.
        await erp.emit("stock.changed", { sku: c!.sku, locationId: "main", quantity: -3, previousQuantity: 0 });
        await stack.drain();
        assert.equal(zfLevel(stack, a!.sku, "LOC-A1"), 5);
        const dead = await stack.db.knex("zenflow_outbox").where({ kind: "stock", status: "dead" }).orderBy("erp_ref");
        const msg = Object.fromEntries(dead.map((d) => [d.erp_ref, d.last_error]));
        assert.match(
          msg[b!.sku],
          new RegExp(`Stock ${b!.sku} @ backroom \\(ZenFlow backroom\\): ZenFlow rejected the level 2 — Unknown location backroom`),
        );
        assert.match(msg[c!.sku], /quantity is -3: ZenFlow does not accept negative stock/);
        assert.equal(dead.length, 2);
      } finally {
        await stack.close();
      }
    });

    it("ERP as source: the full stock sync pushes every level and repairs drift in ZenFlow", async () => {
      const stack = await startStack(kind, { sandbox: SANDBOX, config: { ...CONFIG, stockSource: "erp" }, plugin: { autoStart: false } });
      try {
        const products = await withProducts(stack, 150);
        const erp = stack.main.host.erp;
        await stack.main.host.disable(); // levels set while the plugin was away: only the full sync sees them
        for (const [i, p] of products.entries()) await erp.setStock({ sku: p.sku, locationId: "main", quantity: i + 1, reason: "count" });
        await stack.main.host.enable();
        const r = await stack.main.host.runAction("sync-stock");
        assert.equal(r.ok, true, r.message);
        const state = stack.main.plugin.runtime()!.parts.state;
        await eventually(async () => (await readProgress(state, "sync-stock"))?.status === "done", 20_000, "full sync done");
        for (const [i, p] of products.entries()) assert.equal(zfLevel(stack, p.sku, "LOC-A1"), i + 1, p.sku);
        assert.equal(stockBulk(stack).length, 2, "150 levels in 2 requests");
      } finally {
        await stack.close();
      }
    });

    it("ZenFlow as source: its levels land in the ERP where they differ, and nothing is pushed back", async () => {
      const stack = await startStack(kind, { sandbox: SANDBOX, config: { ...CONFIG, stockSource: "erp" }, plugin: { autoStart: false } });
      try {
        const [a, b] = await withProducts(stack, 2);
        await setConfig(stack, { stockSource: "zenflow" });
        const erp = stack.main.host.erp;
        await erp.setStock({ sku: b!.sku, locationId: "main", quantity: 9, reason: "count" });
        stack.sandbox.setStock({ sku: a!.sku }, "LOC-A1", 77);
        stack.sandbox.setStock({ sku: b!.sku }, "LOC-A1", 9);
        const before = stockBulk(stack).length;
        const engine = stack.main.plugin.runtime()!.engine!;
        assert.equal(await engine.scheduler.runTask("sync-stock"), "ran");
        assert.equal(await erp.getStock(a!.sku, "main"), 77, "LOC-A1 is the ERP's main");
        assert.equal(await erp.getStock(b!.sku, "main"), 9);
        await stack.drain();
        assert.equal(stockBulk(stack).length, before, "no echo to ZenFlow");
        assert.equal(
          Number((await stack.db.knex("zenflow_outbox").where({ kind: "stock" }).whereNot({ status: "done" }).count({ n: "*" }))[0]!.n),
          0,
        );
        // ERP stock changes are not sent while ZenFlow owns stock.
        await erp.setStock({ sku: a!.sku, locationId: "main", quantity: 1, reason: "count" });
        await stack.drain();
        assert.equal(stockBulk(stack).length, before);
      } finally {
        await stack.close();
      }
    });

    it("none: stock is left alone in both directions", async () => {
      const stack = await startStack(kind, { sandbox: SANDBOX, config: { ...CONFIG, stockSource: "none" }, plugin: { autoStart: false } });
      try {
        const [a] = await withProducts(stack, 1);
        await stack.main.host.erp.setStock({ sku: a!.sku, locationId: "main", quantity: 4, reason: "count" });
        await stack.drain();
        assert.equal(stockBulk(stack).length, 0);
        const r = await stack.main.host.runAction("sync-stock");
        assert.equal(r.ok, false);
        assert.match(r.message, /Stock is not synchronised/);
      } finally {
        await stack.close();
      }
    });
  });
}
