// Issue #13 item 4 acceptance: the stock drift report lists exactly the levels that differ
// (seeded in the ERP and in the sandbox), writes nothing, and reads ZenFlow with GETs only;
// the drift guard stops a full sync and says why; `sync-stock-anyway` proceeds; the full sync
// writes only the differing levels.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { readProgress } from "../../plugin/core/runs";
import { readDriftReport } from "../../plugin/sync/stock-drift";
import { newProduct } from "../support/builders";
import { testDbKinds } from "../support/db";
import { eventually, startStack, type Stack } from "../support/stack";

const CONFIG = {
  rateLimitPerMinute: 100_000,
  rateLimitPerHour: 1_000_000,
  rateLimitPerDay: 10_000_000,
  locationMap: { main: "LOC-A1" },
  stockSource: "erp",
};
const SANDBOX = { limits: { perMinute: 100_000, perHour: 1_000_000, perDay: 10_000_000 } };

/**
 * Six products; after it, per SKU at main / LOC-A1:
 *   a 5/5, c 7/7, d 8/8  equal
 *   b 6/60               differs (changed in ZenFlow)
 *   e —/3                only in ZenFlow (the ERP has no level)
 *   f 9/—                only in the ERP (set while the plugin was away)
 */
async function seed(stack: Stack) {
  const erp = stack.main.host.erp;
  const [a, b, c, d, e, f] = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => erp.createProduct(newProduct(61_000 + i))));
  await stack.drain();
  for (const [p, q] of [
    [a, 5],
    [b, 6],
    [c, 7],
    [d, 8],
  ] as const)
    await erp.setStock({ sku: p!.sku, locationId: "main", quantity: q, reason: "count" });
  await stack.drain();
  stack.sandbox.setStock({ sku: b!.sku }, "LOC-A1", 60);
  stack.sandbox.setStock({ sku: e!.sku }, "LOC-A1", 3);
  await stack.main.host.disable();
  await erp.setStock({ sku: f!.sku, locationId: "main", quantity: 9, reason: "count" });
  await stack.main.host.enable();
  return { a: a!, b: b!, c: c!, d: d!, e: e!, f: f! };
}

const zenflowStock = (stack: Stack) =>
  stack.sandbox
    .stock()
    .map((s) => `${s.sku}@${s.location_id}=${s.quantity}`)
    .sort();
const erpStock = async (stack: Stack) =>
  (await stack.main.host.erp.listStock()).map((s) => `${s.sku}@${s.locationId}=${s.quantity}`).sort();
const state = (stack: Stack) => stack.main.plugin.runtime()!.parts.state;

for (const kind of testDbKinds()) {
  describe(`stock drift [${kind}]`, () => {
    it("the report lists exactly the differing levels, with the sync's direction, and writes nothing", async () => {
      const stack = await startStack(kind, { sandbox: SANDBOX, config: CONFIG, plugin: { autoStart: false } });
      try {
        const { b, e, f } = await seed(stack);
        const [zfBefore, erpBefore] = [zenflowStock(stack), await erpStock(stack)];
        const seq = stack.sandbox.requests().length;
        const outboxBefore = await stack.db.knex("zenflow_outbox").count({ n: "*" });

        const r = await stack.main.host.runAction("stock-drift");
        assert.equal(r.ok, true, r.message);
        await eventually(async () => (await readProgress(state(stack), "stock-drift"))?.status === "done", 20_000, "report done");
        const report = await readDriftReport(state(stack));
        assert.ok(report);
        assert.equal(report.compared, 6);
        assert.equal(report.differing, 3);
        assert.equal(report.toWrite, 2);
        assert.equal(report.truncated, false);
        const rows = report.rows.map((row) => ({
          sku: row.sku,
          erpLocation: row.erpLocation,
          location: row.location,
          erp: row.erpQuantity,
          zf: row.zenflowQuantity,
          difference: row.difference,
          direction: row.direction,
        }));
        const expected = [
          { sku: b.sku, erpLocation: "main", location: "LOC-A1", erp: 6, zf: 60, difference: -54, direction: "ERP → ZenFlow" },
          { sku: e.sku, erpLocation: "main", location: "LOC-A1", erp: null, zf: 3, difference: -3, direction: null },
          { sku: f.sku, erpLocation: "main", location: "LOC-A1", erp: 9, zf: null, difference: 9, direction: "ERP → ZenFlow" },
        ];
        assert.deepEqual(
          rows.sort((x, y) => x.sku.localeCompare(y.sku)),
          expected,
        );
        // The last change on each side: b's ERP change was recorded and sent to ZenFlow.
        const rowB = report.rows.find((row) => row.sku === b.sku)!;
        assert.equal(typeof rowB.erpChangedAt, "number");
        assert.equal(typeof rowB.zenflowChangedAt, "number");

        // Nothing written: GETs only (of /stock), ERP and ZenFlow levels and the outbox unchanged.
        const sent = stack.sandbox.requests().slice(seq);
        assert.ok(sent.length >= 1);
        assert.deepEqual([...new Set(sent.map((q) => `${q.method} ${q.path.replace(/^.*\/api\/v1/, "")}`))], ["GET /stock"]);
        assert.deepEqual(zenflowStock(stack), zfBefore);
        assert.deepEqual(await erpStock(stack), erpBefore);
        assert.deepEqual(await stack.db.knex("zenflow_outbox").count({ n: "*" }), outboxBefore);
      } finally {
        await stack.close();
      }
    });

    it("the drift guard stops the full sync and says why; sync-stock-anyway then writes only the differing levels", async () => {
      const guard = { stockSyncDriftGuard: true, stockSyncDriftMaxLevels: 1000, stockSyncDriftMaxPercent: 40 };
      const stack = await startStack(kind, { sandbox: SANDBOX, config: { ...CONFIG, ...guard }, plugin: { autoStart: false } });
      try {
        const { b, e, f } = await seed(stack);
        const bulk = () => stack.sandbox.requests().filter((q) => q.method === "POST" && q.path.endsWith("/stock/bulk"));
        const bulkBefore = bulk().length;
        const zfBefore = zenflowStock(stack);

        assert.equal(await stack.main.plugin.runtime()!.engine!.scheduler.runTask("sync-stock"), "ran");
        const stopped = await readProgress(state(stack), "sync-stock");
        const why = "stopped: 3 of 6 levels differ (50%) > 40%: review the drift report, then run 'sync-stock-anyway'";
        assert.equal(stopped?.status, "stopped");
        assert.equal(stopped?.message, why);
        assert.equal(bulk().length, bulkBefore, "nothing pushed");
        assert.deepEqual(zenflowStock(stack), zfBefore);
        const health = await stack.main.host.health();
        assert.equal(health.status, "degraded");
        assert.equal(health.message, `Full stock sync ${why}`);
        const report = await readDriftReport(state(stack));
        assert.equal(report?.trigger, "guard");
        assert.equal(report?.differing, 3);

        const r = await stack.main.host.runAction("sync-stock-anyway");
        assert.equal(r.ok, true, r.message);
        await eventually(async () => (await readProgress(state(stack), "sync-stock"))?.status === "done", 20_000, "sync done");
        const done = await readProgress(state(stack), "sync-stock");
        assert.match(
          done!.message!,
          /3 of 6 levels differ \(50%\); 2 written, 0 with problems \(ERP → ZenFlow\); drift guard overridden once/,
        );
        // Only b and f went out, in one request; e (not in the ERP) is left as ZenFlow has it.
        const pushed = bulk().slice(bulkBefore);
        assert.equal(pushed.length, 1);
        const updates = (pushed[0]!.body as { updates: { sku: string; quantity: number }[] }).updates;
        assert.deepEqual(updates.map((u) => `${u.sku}=${u.quantity}`).sort(), [`${b.sku}=6`, `${f.sku}=9`].sort());
        assert.equal(stack.sandbox.stock().find((s) => s.sku === e.sku)?.quantity, 3);
        assert.equal((await stack.main.host.health()).status, "ok");

        // The override was for that run only: with drift over the limits again, the next run stops.
        stack.sandbox.setStock({ sku: b.sku }, "LOC-A1", 61);
        stack.sandbox.setStock({ sku: f.sku }, "LOC-A1", 91);
        stack.sandbox.setStock({ sku: e.sku }, "LOC-A1", 0);
        assert.equal(await stack.main.plugin.runtime()!.engine!.scheduler.runTask("sync-stock"), "ran");
        assert.equal((await readProgress(state(stack), "sync-stock"))?.status, "stopped");
      } finally {
        await stack.close();
      }
    });

    it("ZenFlow as source: the report says ZenFlow → ERP, and the full sync copies only the differing levels", async () => {
      const stack = await startStack(kind, { sandbox: SANDBOX, config: CONFIG, plugin: { autoStart: false } });
      try {
        const { a, b, e, f } = await seed(stack);
        assert.deepEqual(await stack.main.host.saveConfig({ ...stack.config, stockSource: "zenflow" }), { ok: true });
        const r = await stack.main.host.runAction("stock-drift");
        assert.equal(r.ok, true, r.message);
        await eventually(async () => (await readProgress(state(stack), "stock-drift"))?.status === "done", 20_000, "report done");
        const report = (await readDriftReport(state(stack)))!;
        const direction = Object.fromEntries(report.rows.map((row) => [row.sku, row.direction]));
        assert.deepEqual(direction, { [b.sku]: "ZenFlow → ERP", [e.sku]: "ZenFlow → ERP", [f.sku]: null });
        assert.equal(report.rows.find((row) => row.sku === f.sku)?.note, "not in ZenFlow: left as it is in the ERP");

        assert.equal(await stack.main.plugin.runtime()!.engine!.scheduler.runTask("sync-stock"), "ran");
        const erp = stack.main.host.erp;
        assert.equal(await erp.getStock(b.sku, "main"), 60);
        assert.equal(await erp.getStock(e.sku, "main"), 3);
        assert.equal(await erp.getStock(f.sku, "main"), 9, "not in ZenFlow: left alone");
        assert.equal(await erp.getStock(a.sku, "main"), 5);
        assert.match((await readProgress(state(stack), "sync-stock"))!.message!, /; 2 written, 0 with problems \(ZenFlow → ERP\)$/);
      } finally {
        await stack.close();
      }
    });
  });
}
