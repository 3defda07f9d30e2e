// The layering rules (scripts/import-rules.ts) hold on the codebase, and they catch a
// deliberate violation of each kind in a throwaway tree laid out like this repository.
import "../support/leak-check";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { collectEdges, cycles, importsOf, mutualFolders, ruleViolations } from "../../scripts/import-rules";

const ROOT = join(__dirname, "..", "..");

describe("import rules", () => {
  it("hold on the codebase: no forbidden import, no import cycle, no two plugin folders importing each other", () => {
    const edges = collectEdges(ROOT);
    assert.ok(edges.filter((e) => e.from.startsWith("hooks/")).length >= 10, "the scanner reads the hooks' imports");
    assert.deepEqual(ruleViolations(edges), []);
    assert.deepEqual(cycles(edges), []);
    assert.deepEqual(mutualFolders(edges), []);
  });

  it("fail on deliberate violations", () => {
    const dir = mkdtempSync(join(tmpdir(), "zf-import-rules-"));
    const file = (path: string, body: string) => {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), body);
    };
    try {
      file("plugin/sync/export-orders.ts", 'import { a } from "./cycle-a";\nexport const x = a;\n');
      file("plugin/sync/cycle-a.ts", 'import { b } from "./cycle-b";\nexport const a = b;\n');
      file("plugin/sync/cycle-b.ts", 'import type { a } from "./cycle-a";\nexport const b = 1 as unknown as typeof a;\n');
      file("plugin/budget/limiter.ts", 'import Bottleneck from "bottleneck";\nimport "../outbox/worker";\nexport default Bottleneck;\n');
      file("plugin/outbox/worker.ts", 'import { L } from "../budget/limiter";\nexport { L };\n');
      file("plugin/runtime/engine.ts", "export const e = 1;\n");
      file("plugin/core/clock.ts", 'export { e } from "../runtime/engine";\n');
      file("plugin/mapping/to-x.ts", 'import knex from "knex";\nexport const k = knex;\n');
      file("hooks/order-created.ts", 'import { x } from "../plugin/sync/export-orders";\nexport const h = x;\n');
      file("plugin/webhooks/router.ts", 'import { c } from "../zenflow/client";\nimport B from "bottleneck";\nexport const r = [c, B];\n');
      file("plugin/zenflow/client.ts", "export const c = 1;\n");
      file("dev/host/index.ts", 'import { x } from "../../plugin/sync/export-orders";\nexport const y = x;\n');
      const edges = collectEdges(dir);
      const got = ruleViolations(edges).map((v) => `${v.rule}: ${v.from} -> ${v.to}`);
      for (const expected of [
        "hooks-only-record: hooks/order-created.ts -> plugin/sync/export-orders.ts",
        "core-is-the-kernel: plugin/core/clock.ts -> plugin/runtime/engine.ts",
        "mapping-is-pure: plugin/mapping/to-x.ts -> knex",
        "only-budget-knows-bottleneck: plugin/webhooks/router.ts -> bottleneck",
        "webhook-receiver-never-calls-zenflow: plugin/webhooks/router.ts -> plugin/zenflow/client.ts",
        "outbox-knows-no-zenflow: plugin/outbox/worker.ts -> plugin/budget/limiter.ts",
        "reference-host-is-independent: dev/host/index.ts -> plugin/sync/export-orders.ts",
      ])
        assert.ok(got.includes(expected), `expected "${expected}" among:\n${got.join("\n")}`);
      assert.deepEqual(cycles(edges), [
        ["plugin/budget/limiter.ts", "plugin/outbox/worker.ts"],
        ["plugin/sync/cycle-a.ts", "plugin/sync/cycle-b.ts"],
      ]);
      assert.deepEqual(mutualFolders(edges), ["plugin/budget <-> plugin/outbox"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reads every import form the codebase uses, and nothing in comments", () => {
    const src = [
      'import a from "a";',
      'import { b,\n  c } from "./b";',
      'import type { T } from "./t";',
      'export { d } from "./d";',
      'export * from "./e";',
      'export type { U } from "./u";',
      'import "./side-effect";',
      'const f = await import("./f");',
      'const g = require("g");',
      '// import x from "./commented";',
      '/* import y from "./block"; */',
      'const s = "import z from ./not-a-statement";',
    ].join("\n");
    assert.deepEqual(importsOf(src), [
      { spec: "a", typeOnly: false },
      { spec: "./b", typeOnly: false },
      { spec: "./t", typeOnly: true },
      { spec: "./d", typeOnly: false },
      { spec: "./e", typeOnly: false },
      { spec: "./u", typeOnly: true },
      { spec: "./side-effect", typeOnly: false },
      { spec: "./f", typeOnly: false },
      { spec: "g", typeOnly: false },
    ]);
  });
});
