import "../support/leak-check";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { configJsonSchema, parseConfig, DEFAULT_STATUS_MAP } from "../../plugin/core/config";
import { ACTIONS, buildManifest } from "../../plugin/core/manifest";
import { actions } from "../../plugin/admin/actions";

const root = join(__dirname, "..", "..");

describe("manifest.json", () => {
  const onDisk = JSON.parse(readFileSync(join(root, "manifest.json"), "utf8"));
  it("matches the config zod schema (regenerate with npm run build)", () => {
    assert.deepEqual(onDisk.config, configJsonSchema());
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
    assert.deepEqual(onDisk, buildManifest(pkg.version));
  });
  it("follows the host contract", () => {
    assert.match(onDisk.id, /^[a-z][a-z0-9-]{1,39}$/);
    assert.equal(onDisk.id, "zenflow");
    assert.equal(onDisk.erpApi, "^1.0.0");
    assert.equal(onDisk.config.type, "object");
    assert.equal(onDisk.config.properties.apiKey.writeOnly, true);
    assert.equal(onDisk.config.properties.webhookSecret.writeOnly, true);
    for (const [key, prop] of Object.entries<Record<string, unknown>>(onDisk.config.properties)) {
      assert.ok(typeof prop.title === "string" && prop.title.length > 3, `${key} has a title`);
      assert.ok(typeof prop.description === "string" && prop.description.length > 20, `${key} has a description`);
    }
  });
  it("has the documented defaults", () => {
    const p = onDisk.config.properties;
    assert.equal(p.baseUrl.default, "https://api.zenflow.com.ar/api/v1");
    assert.equal(p.rateLimitPerMinute.default, 60);
    assert.equal(p.rateLimitPerHour.default, 1000);
    assert.equal(p.rateLimitPerDay.default, 10000);
    assert.deepEqual(p.statusMap.default, DEFAULT_STATUS_MAP);
    assert.deepEqual(p.stockSource.enum, ["none", "erp", "zenflow"]);
  });
});

describe("parseConfig", () => {
  it("reports a missing key as unconfigured, in words an admin understands", () => {
    const r = parseConfig({});
    assert.equal(r.ok, false);
    assert.match((r as { reason: string }).reason, /No ZenFlow API key is set/);
  });
  it("names the field by its title and never echoes the value", () => {
    const r = parseConfig({ apiKey: "zenflow_live_secretvalue", rateLimitPerMinute: -5, baseUrl: "not a url" });
    assert.equal(r.ok, false);
    const reason = (r as { reason: string }).reason;
    assert.match(reason, /ZenFlow requests per minute/);
    assert.match(reason, /ZenFlow API address/);
    assert.doesNotMatch(reason, /secretvalue/);
  });
});

describe("manifest actions", () => {
  it("every manifest action has an implementation, and every implementation is listed", async () => {
    assert.deepEqual(ACTIONS.map((a) => a.id).sort(), Object.keys(actions).sort());
  });
});
