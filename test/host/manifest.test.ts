// Plugin loading (contract section 1): manifest validation, erpApi range, loading `main`.
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { startHost, validateManifest, ManifestError } from "../../dev/host";
import { createTestDb, testDbKinds } from "../support/db";
import { ADMIN_TOKEN, FIXTURE_DIR, RecordingLogger, SECRET_KEY } from "./helpers";

const fixtureManifest = () => JSON.parse(readFileSync(join(FIXTURE_DIR, "manifest.json"), "utf8")) as Record<string, unknown>;

const tmpDirs: string[] = [];
after(() => {
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
});

/** A copy of the fixture plugin with some manifest fields replaced (or removed with undefined). */
function pluginCopy(changes: Record<string, unknown>, files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "host-manifest-"));
  tmpDirs.push(dir);
  cpSync(FIXTURE_DIR, dir, { recursive: true });
  const m = { ...fixtureManifest(), ...changes };
  for (const [k, v] of Object.entries(changes)) if (v === undefined) delete m[k];
  writeFileSync(join(dir, "manifest.json"), JSON.stringify(m));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

function problemsOf(changes: Record<string, unknown>): string[] {
  try {
    validateManifest({ ...fixtureManifest(), ...changes });
  } catch (err) {
    assert.ok(err instanceof ManifestError);
    return err.problems;
  }
  return [];
}

describe("manifest validation", () => {
  test("the fixture manifest is valid", () => {
    assert.equal(validateManifest(fixtureManifest()).id, "hostfix");
  });

  test("refuses a bad id", () => {
    for (const id of ["Bad", "x", "1abc", "has_underscore", "a".repeat(41), 42]) {
      assert.match(problemsOf({ id }).join(";"), /^id must match/, `id ${JSON.stringify(id)}`);
    }
    assert.deepEqual(problemsOf({ id: "ok-id-2" }), []);
  });

  test("refuses an erpApi range that host API 1.0.0 does not satisfy", () => {
    assert.match(problemsOf({ erpApi: "^2.0.0" }).join(";"), /erpApi "\^2\.0\.0" is not satisfied by this host's API version 1\.0\.0/);
    assert.match(problemsOf({ erpApi: "not a range" }).join(";"), /erpApi must be a semver range/);
    assert.deepEqual(problemsOf({ erpApi: ">=1.0.0 <2" }), []);
  });

  test("refuses unknown hooks and permissions, missing fields and a non-object config schema", () => {
    assert.match(problemsOf({ hooks: ["order.created", "order.deleted"] }).join(";"), /unknown event "order.deleted"/);
    assert.match(problemsOf({ permissions: ["db", "root"] }).join(";"), /unknown permission "root"/);
    assert.match(problemsOf({ main: undefined }).join(";"), /main must be/);
    assert.match(problemsOf({ version: "one" }).join(";"), /not semver/);
    assert.match(problemsOf({ config: { type: "array" } }).join(";"), /type "object"/);
    assert.match(problemsOf({ config: { type: "object", properties: { a: { type: "nope" } } } }).join(";"), /not a valid JSON Schema/);
    assert.match(problemsOf({ migrations: { directory: "../elsewhere", tableName: "t" } }).join(";"), /migrations.directory/);
    assert.match(
      problemsOf({
        actions: [
          { id: "a", label: "A" },
          { id: "a", label: "B" },
        ],
      }).join(";"),
      /duplicate id "a"/,
    );
  });

  test("startHost refuses such a plugin before running any of its code", async () => {
    const log = new RecordingLogger();
    const boom = pluginCopy({ id: "Bad_Id" }, { "index.js": "throw new Error('plugin code must not run');" });
    await assert.rejects(
      startHost({ pluginDir: boom, databaseUrl: "sqlite::memory:", logger: log, secretKey: SECRET_KEY }),
      (err: Error) => {
        assert.ok(err instanceof ManifestError);
        assert.match(err.message, /id must match/);
        return true;
      },
    );
    const future = pluginCopy({ erpApi: "^2.0.0" }, { "index.js": "throw new Error('plugin code must not run');" });
    await assert.rejects(
      startHost({ pluginDir: future, databaseUrl: "sqlite::memory:", logger: log, secretKey: SECRET_KEY }),
      /not satisfied by this host's API version 1\.0\.0/,
    );
  });

  test("a manifest action without a function in plugin.actions is refused", async () => {
    const dir = pluginCopy({ actions: [{ id: "missing", label: "Missing" }] });
    await assert.rejects(
      startHost({ pluginDir: dir, databaseUrl: "sqlite::memory:", logger: new RecordingLogger(), secretKey: SECRET_KEY }),
      /action "missing" has no function/,
    );
  });
});

for (const kind of testDbKinds()) {
  describe(`loading main (${kind})`, () => {
    test("CommonJS module.exports, ESM default export and transpiled exports.default all load", async () => {
      const db = await createTestDb(kind);
      const plain = `module.exports = { activated: 0, async activate(ctx) { this.activated++; this.id = ctx.id; }, async deactivate() {} };`;
      const esm = `export default { activated: 0, async activate(ctx) { this.activated++; this.id = ctx.id; }, async deactivate() {} };`;
      const transpiled = `"use strict"; Object.defineProperty(exports, "__esModule", { value: true }); exports.default = { activated: 0, async activate(ctx) { this.activated++; this.id = ctx.id; }, async deactivate() {} };`;
      try {
        for (const [main, code] of [
          ["index.js", null],
          ["plain.cjs", plain],
          ["esm.mjs", esm],
          ["transpiled.cjs", transpiled],
        ] as const) {
          const dir = pluginCopy({ main, actions: [] }, code ? { [main]: code } : {});
          const host = await startHost({
            pluginDir: dir,
            db: db.knex,
            logger: new RecordingLogger(),
            adminToken: ADMIN_TOKEN,
            secretKey: SECRET_KEY,
          });
          try {
            await host.enable();
            assert.equal(host.state, "active", main);
            const loaded = host.plugin as unknown as { activated?: number; state?: { activations: number } };
            assert.equal(loaded.activated ?? loaded.state?.activations, 1, `${main} was activated once`);
          } finally {
            await host.close();
          }
        }
      } finally {
        await db.destroy();
      }
    });
  });
}
