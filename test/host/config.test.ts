// Config (contract sections 1, 4 and 8): schema validation, defaults, writeOnly secrets
// encrypted at rest and never rendered, onChange in every process on the database.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Knex } from "knex";
import request from "supertest";
import { createTestDb, testDbKinds, type TestDb } from "../support/db";
import { ADMIN_TOKEN, startTestHost, waitFor } from "./helpers";

const BEARER = `Bearer ${ADMIN_TOKEN}`;
const SECRET = "sk_live_Very-Secret-Value-42";
const DEFAULTS = { apiUrl: "https://api.example.test", batchSize: 50, mode: "sandbox", dryRun: false, locationMap: { main: "WH1" } };

/** Counts, from now on, the config polls (the version check of ConfigStore.pollOnce) answered on `knex`. */
function countConfigPolls(knex: Knex): { count(): number; stop(): void } {
  let n = 0;
  const onResponse = (_response: unknown, query: { sql?: string }) => {
    if (/^select [`"]version[`"] from [`"]erp_plugin_config[`"]/i.test(query.sql ?? "")) n++;
  };
  knex.on("query-response", onResponse);
  return { count: () => n, stop: () => void knex.off("query-response", onResponse) };
}

async function rawRow(db: TestDb): Promise<{ values_json: string; version: number | string } | undefined> {
  return (await db.knex("erp_plugin_config").where({ plugin_id: "hostfix" }).first()) as
    { values_json: string; version: number | string } | undefined;
}

for (const kind of testDbKinds()) {
  describe(`config (${kind})`, () => {
    let db: TestDb;
    before(async () => {
      db = await createTestDb(kind);
    });
    after(async () => {
      await db.destroy();
    });

    test("validation, defaults, secrets at rest and in the screens", async () => {
      const { host, plugin } = await startTestHost(db.knex);
      try {
        await host.enable();
        assert.deepEqual(host.ctx.config.get(), DEFAULTS, "defaults before the first save");

        const refused = await host.saveConfig({ apiKey: "short", batchSize: 0, mode: "prod", extra: 1 });
        assert.equal(refused.ok, false);
        const errors = refused.ok ? [] : refused.errors;
        assert.ok(
          errors.some((e) => e.startsWith("batchSize:")),
          errors.join("\n"),
        );
        assert.ok(
          errors.some((e) => e.startsWith("mode:")),
          errors.join("\n"),
        );
        assert.ok(
          errors.some((e) => e.startsWith("apiKey:")),
          errors.join("\n"),
        );
        assert.ok(
          errors.some((e) => /unknown property "extra"/.test(e)),
          errors.join("\n"),
        );
        assert.equal(await rawRow(db), undefined, "nothing stored");
        assert.equal(plugin.state.configChanges.length, 0);
        assert.deepEqual(await host.saveConfig({ apiUrl: "not a url" }), { ok: false, errors: ['apiUrl: must match format "uri"'] });

        assert.deepEqual(await host.saveConfig({ apiKey: SECRET, batchSize: 10 }), { ok: true });
        assert.deepEqual(host.ctx.config.get(), { ...DEFAULTS, apiKey: SECRET, batchSize: 10 });
        assert.equal(plugin.state.configChanges.length, 1, "onChange fires at once in the saving process");
        assert.deepEqual(plugin.state.configChanges[0], { ...DEFAULTS, apiKey: SECRET, batchSize: 10 });

        const row = await rawRow(db);
        assert.ok(row);
        assert.equal(Number(row.version), 1);
        assert.ok(!row.values_json.includes(SECRET), "the secret is encrypted at rest");
        assert.ok(!row.values_json.includes("Very-Secret"));
        const stored = JSON.parse(row.values_json) as Record<string, unknown>;
        assert.equal(stored.batchSize, 10);
        assert.equal(stored.mode, undefined, "defaults are not stored");
        assert.equal(typeof (stored.apiKey as Record<string, unknown>).$encrypted, "string");

        // Saving without the secret keeps it (it is never sent back to the browser).
        assert.deepEqual(await host.saveConfig({ mode: "live" }), { ok: true });
        assert.equal(host.ctx.config.get().apiKey, SECRET);
        assert.equal(host.ctx.config.get().batchSize, 50, "a property left out falls back to its default");

        const page = await request(host.url).get("/admin/plugin-manager/hostfix").set("authorization", BEARER).expect(200);
        assert.ok(!page.text.includes(SECRET), "the secret is never rendered");
        assert.match(page.text, /type="password" id="f-apiKey" name="c.apiKey" value=""/);
        assert.match(page.text, /•••• saved/);
        assert.match(
          page.text,
          /<label for="f-apiUrl">API URL <span title="required">\*<\/span><\/label>/,
          "title as label, required marked",
        );
        assert.match(page.text, /Secret key &lt;for&gt; the API\./, "description as help text, escaped");
        assert.match(page.text, /<select id="f-mode" name="c.mode">.*<option value="live" selected>live<\/option>/s);
        assert.match(page.text, /type="number" id="f-batchSize" name="c.batchSize" step="1" min="1" max="500" value="" placeholder="50"/);
        assert.match(page.text, /type="checkbox" id="f-dryRun"/);
        assert.match(page.text, /<textarea id="f-locationMap"/);
        const order = ["f-apiUrl", "f-apiKey", "f-batchSize", "f-mode", "f-dryRun", "f-locationMap"].map((id) =>
          page.text.indexOf(`id="${id}"`),
        );
        assert.deepEqual(
          order,
          [...order].sort((a, b) => a - b),
          "schema order",
        );
        assert.match(page.text, /connected to https:\/\/api\.example\.test/, "current health");

        const json = await request(host.url).get("/admin/plugin-manager/hostfix/config").set("authorization", BEARER).expect(200);
        assert.deepEqual(json.body, { values: { mode: "live" }, savedSecrets: ["apiKey"] });
        assert.ok(!JSON.stringify(json.body).includes(SECRET));

        // The form: a refusal is shown next to the form, a blank secret keeps the saved one.
        const bad = await request(host.url)
          .post("/admin/plugin-manager/hostfix")
          .set("authorization", BEARER)
          .type("form")
          .send({ "c.apiUrl": "https://x.example.test", "c.apiKey": "", "c.batchSize": "900", "c.mode": "live", "c.locationMap": "{}" })
          .expect(400);
        assert.match(bad.text, /The configuration was not saved/);
        assert.match(bad.text, /batchSize: must be &lt;= 500/);
        assert.ok(!bad.text.includes(SECRET));
        assert.match(bad.text, /value="https:\/\/x\.example\.test"/, "the submitted values are kept");
        const ok = await request(host.url)
          .post("/admin/plugin-manager/hostfix")
          .set("authorization", BEARER)
          .type("form")
          .send({
            "c.apiUrl": "https://x.example.test",
            "c.apiKey": "",
            "c.batchSize": "25",
            "c.mode": "",
            "c.dryRun": "true",
            "c.locationMap": '{"main":"A","backroom":"B"}',
          })
          .expect(303);
        assert.equal(ok.headers.location, "/admin/plugin-manager/hostfix?saved=1");
        assert.deepEqual(host.ctx.config.get(), {
          apiUrl: "https://x.example.test",
          apiKey: SECRET,
          batchSize: 25,
          mode: "sandbox",
          dryRun: true,
          locationMap: { main: "A", backroom: "B" },
        });

        const viaJson = await request(host.url)
          .post("/admin/plugin-manager/hostfix/config")
          .set("authorization", BEARER)
          .send({ batchSize: -1 })
          .expect(400);
        assert.equal(viaJson.body.ok, false);
        await request(host.url).post("/admin/plugin-manager/hostfix/config").send({ batchSize: 5 }).expect(401);
      } finally {
        await host.close();
      }
    });

    test("onChange fires in another process on the same database within configPollMs", async () => {
      const a = await startTestHost(db.knex, { processName: "erp-a", configPollMs: 1000 });
      const knexB = db.connect();
      const b = await startTestHost(knexB, { processName: "erp-b", configPollMs: 100 });
      try {
        await a.host.enable();
        await b.host.enable();
        const saved = Date.now();
        assert.deepEqual(await a.host.saveConfig({ apiKey: "another-secret-1", dryRun: true }), { ok: true });
        assert.equal(a.plugin.state.configChanges.length, 1);
        await waitFor(() => b.plugin.state.configChanges.length === 1, 2000, "onChange in the second host");
        const took = Date.now() - saved;
        assert.ok(took <= 100 + 250, `onChange reached the other host after ${took} ms`);
        assert.equal(b.plugin.state.configChanges[0]!.apiKey, "another-secret-1");
        assert.equal(b.host.ctx.config.get().dryRun, true);
        // No echo: the saving host does not fire again when it polls its own version, nor does the
        // other host once it has it. Two more polls each: a first one that fired would have
        // finished firing before the second one starts (polls are chained).
        const pollsA = countConfigPolls(db.knex);
        const pollsB = countConfigPolls(knexB);
        try {
          await waitFor(() => pollsA.count() >= 2 && pollsB.count() >= 2, 10_000, "two more config polls in each host");
        } finally {
          pollsA.stop();
          pollsB.stop();
        }
        assert.equal(a.plugin.state.configChanges.length, 1);
        assert.equal(b.plugin.state.configChanges.length, 1);
      } finally {
        await a.host.close();
        await b.host.close();
      }
    });

    test("a host with another secret key cannot read the secret and says so", async () => {
      const { host, log } = await startTestHost(db.knex, { secretKey: "a-different-key" });
      try {
        assert.equal(host.ctx.config.get().apiKey, undefined);
        assert.equal(log.find("error", /cannot decrypt a saved secret/).length, 1);
        assert.ok(!JSON.stringify(log.entries).includes("another-secret-1"));
      } finally {
        await host.close();
      }
    });

    test("emptyConfigBeforeFirstSave reads contract section 4 literally", async () => {
      const other = await createTestDb(kind);
      try {
        const { host } = await startTestHost(other.knex, { emptyConfigBeforeFirstSave: true });
        try {
          assert.deepEqual(host.ctx.config.get(), {});
          await host.saveConfig({ apiKey: "k-12345678" });
          assert.deepEqual(host.ctx.config.get(), { ...DEFAULTS, apiKey: "k-12345678" });
        } finally {
          await host.close();
        }
      } finally {
        await other.destroy();
      }
    });
  });
}
