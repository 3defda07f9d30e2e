// The layering rules of the codebase, checked on every `npm test` (test/unit/import-rules).
// A small checker of our own: the tools that do this (dependency-cruiser, eslint's
// import rules) parse TypeScript through its JavaScript API, which TypeScript 7 no longer
// ships. Import specifiers are read with a scanner that understands the statement forms
// this codebase uses (import/export … from, side-effect import, import(), require()).
import { readdirSync, readFileSync, statSync, existsSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";

export interface ImportEdge {
  from: string; // repo-relative path, forward slashes
  to: string; // repo-relative path of a resolved local file, or the package name / node: builtin
  local: boolean;
  typeOnly: boolean;
}

export interface Rule {
  name: string;
  why: string;
  /** Files the rule applies to (repo-relative, forward slashes). */
  from: RegExp;
  /** Imports the rule forbids… */
  forbid?: RegExp;
  /** …or the only imports it allows (local paths and package names alike). */
  allowOnly?: RegExp;
  /** Type-only imports are exempt (they vanish at run time). */
  ignoreTypeOnly?: boolean;
}

export const RULES: Rule[] = [
  {
    name: "core-is-the-kernel",
    why: "plugin/core imports nothing above it",
    from: /^plugin\/core\//,
    allowOnly: /^(plugin\/core\/|node:|knex$|zod$|croner$|express$)/,
  },
  {
    name: "jobs-do-no-io",
    why: "plugin/jobs only describes work: keys, priorities, payloads",
    from: /^plugin\/jobs\//,
    allowOnly: /^(plugin\/core\/|plugin\/jobs\/|zod$)/,
  },
  {
    name: "hooks-only-record",
    why: "ERP event handlers record a job and return: they import only jobs/ and core/",
    from: /^hooks\//,
    allowOnly: /^(hooks\/|plugin\/core\/|plugin\/jobs\/)/,
  },
  {
    name: "mapping-is-pure",
    why: "mappers are pure functions: no database, no HTTP, no queue",
    from: /^plugin\/mapping\//,
    allowOnly:
      /^(plugin\/mapping\/|plugin\/core\/(errors|host-api|config|clock|text)\.ts$|plugin\/zenflow\/(client|schemas)\.ts$|zod$|node:crypto$)/,
  },
  {
    name: "only-budget-knows-bottleneck",
    why: "Bottleneck is unmaintained: keep it swappable behind plugin/budget",
    from: /^(?!plugin\/budget\/)/,
    forbid: /^bottleneck$/,
  },
  {
    name: "webhook-receiver-never-calls-zenflow",
    why: "nothing that talks to ZenFlow runs inside ZenFlow's webhook request",
    from: /^plugin\/webhooks\/(router|ingest|envelope|signature)\.ts$/,
    forbid: /^plugin\/(zenflow|budget|sync|outbox\/worker)/,
    ignoreTypeOnly: true,
  },
  {
    name: "outbox-knows-no-zenflow",
    why: "the queue and its worker are generic: retry policy lives on the errors",
    from: /^plugin\/outbox\//,
    forbid: /^plugin\/(zenflow|budget|sync|webhooks|admin|runtime)\//,
  },
  {
    name: "plugin-stays-out-of-dev",
    why: "the plugin ships without the reference host, the sandbox, tests or benchmarks",
    from: /^(plugin|hooks|migrations)\//,
    forbid: /^(dev|test|bench|scripts|adapters)\//,
  },
  {
    name: "reference-host-is-independent",
    why: "the reference host is a host like any other: it knows the contract, not the plugin",
    from: /^dev\/host\//,
    forbid: /^(plugin\/(?!core\/host-api\.ts$)|hooks\/|migrations\/)/,
  },
  {
    name: "adapters-use-the-package",
    why: "an adapter loads the plugin through its package entry and contract types, like any host",
    from: /^adapters\/[^/]+\/src\//,
    forbid: /^(plugin|hooks|migrations|dev|test)\//,
  },
];

const SOURCE_DIRS = ["plugin", "hooks", "migrations", "dev", "test", "bench", "scripts", "adapters"];

function walk(root: string, dir: string, out: string[]): void {
  const abs = join(root, dir);
  if (!existsSync(abs)) return;
  for (const e of readdirSync(abs, { withFileTypes: true })) {
    if (e.name === "node_modules" || e.name === "dist" || e.name.startsWith(".")) continue;
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) walk(root, rel, out);
    else if (/\.(ts|mts|cts)$/.test(e.name) && !e.name.endsWith(".d.ts")) out.push(rel);
  }
}

function resolveLocal(root: string, fromFile: string, spec: string): string | null {
  const base = resolve(root, dirname(fromFile), spec);
  for (const c of [base, base.replace(/\.js$/, ".ts"), `${base}.ts`, join(base, "index.ts")]) {
    if (existsSync(c) && statSync(c).isFile()) return relative(root, c).split(sep).join("/");
  }
  return null;
}

/** Statement-level import specifiers of one file (comments and strings elsewhere ignored). */
export function importsOf(source: string): { spec: string; typeOnly: boolean }[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`])\/\/.*$/gm, "$1");
  const out: { spec: string; typeOnly: boolean }[] = [];
  const statement = /(?:^|;|\n)\s*(import|export)\s+(type\s+)?([^;'"]*?\bfrom\s*)?["']([^"']+)["']/g;
  for (const m of code.matchAll(statement)) {
    if (m[1] === "export" && !m[3]) continue; // `export "x"` is not a thing; `export const` never matches a quote here
    out.push({ spec: m[4]!, typeOnly: !!m[2] });
  }
  for (const m of code.matchAll(/\b(?:import|require)\s*\(\s*["']([^"']+)["']\s*\)/g)) out.push({ spec: m[1]!, typeOnly: false });
  return out;
}

export function collectEdges(root: string, files?: string[]): ImportEdge[] {
  const list =
    files ??
    SOURCE_DIRS.flatMap((d) => {
      const out: string[] = [];
      walk(root, d, out);
      return out;
    });
  const edges: ImportEdge[] = [];
  for (const from of list) {
    for (const { spec, typeOnly } of importsOf(readFileSync(join(root, from), "utf8"))) {
      if (spec.startsWith(".")) {
        const to = resolveLocal(root, from, spec);
        if (to) edges.push({ from, to, local: true, typeOnly });
      } else {
        const pkg = spec.startsWith("node:") ? spec : spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]!;
        edges.push({ from, to: pkg, local: false, typeOnly });
      }
    }
  }
  return edges;
}

export interface Violation {
  rule: string;
  why: string;
  from: string;
  to: string;
}

export function ruleViolations(edges: ImportEdge[], rules: Rule[] = RULES): Violation[] {
  const out: Violation[] = [];
  for (const e of edges) {
    for (const r of rules) {
      if (!r.from.test(e.from) || (r.ignoreTypeOnly && e.typeOnly)) continue;
      if (e.local && e.to === e.from) continue;
      const bad = r.forbid ? r.forbid.test(e.to) : r.allowOnly ? !r.allowOnly.test(e.to) && !sameFolder(e.from, e.to) : false;
      if (bad) out.push({ rule: r.name, why: r.why, from: e.from, to: e.to });
    }
  }
  return out;
}

function sameFolder(a: string, b: string): boolean {
  return dirname(a) === dirname(b);
}

/** Import cycles between plugin modules (type-only edges included: a cycle of types is a tangle too). */
export function cycles(edges: ImportEdge[], scope: RegExp = /^(plugin|hooks)\//): string[][] {
  const graph = new Map<string, Set<string>>();
  for (const e of edges) {
    if (!e.local || !scope.test(e.from) || !scope.test(e.to)) continue;
    if (!graph.has(e.from)) graph.set(e.from, new Set());
    graph.get(e.from)!.add(e.to);
  }
  // Tarjan's strongly connected components: every component of two or more files is a cycle.
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1) found.push(comp.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return found;
}

/** Pairs of plugin folders that import each other (a folder-level cycle). */
export function mutualFolders(edges: ImportEdge[]): string[] {
  const folderOf = (p: string) =>
    p.startsWith("plugin/") ? (p.split("/").length > 2 ? p.split("/").slice(0, 2).join("/") : "plugin") : p.split("/")[0]!;
  const pairs = new Set<string>();
  for (const e of edges) {
    if (!e.local || !/^(plugin|hooks)\//.test(e.from) || !/^(plugin|hooks)\//.test(e.to)) continue;
    const a = folderOf(e.from);
    const b = folderOf(e.to);
    if (a !== b) pairs.add(`${a} -> ${b}`);
  }
  const out: string[] = [];
  for (const p of pairs) {
    const [a, b] = p.split(" -> ") as [string, string];
    if (a < b && pairs.has(`${b} -> ${a}`)) out.push(`${a} <-> ${b}`);
  }
  return out;
}

if (process.argv[1] && /import-rules\.ts$/.test(process.argv[1])) {
  const root = resolve(__dirname, "..");
  const edges = collectEdges(root);
  const problems = [
    ...ruleViolations(edges).map((v) => `${v.from} → ${v.to}: ${v.rule} (${v.why})`),
    ...cycles(edges).map((c) => `import cycle: ${c.join(" → ")}`),
    ...mutualFolders(edges).map((m) => `folders import each other: ${m}`),
  ];
  for (const p of problems) console.error(p);
  console.log(problems.length ? `${problems.length} import rule violation(s)` : `import rules hold (${edges.length} imports checked)`);
  process.exit(problems.length ? 1 : 0);
}
