// Shared helpers for benchmarks: percentiles, a printed table and a JSON result file.
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export function summary(samples: number[]) {
  const s = [...samples].sort((a, b) => a - b);
  return { n: s.length, p50: percentile(s, 50), p90: percentile(s, 90), p99: percentile(s, 99), max: s.at(-1) ?? NaN };
}

export function machine() {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? "?",
    memGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    date: new Date().toISOString(),
  };
}

export function printTable(title: string, rows: Record<string, string | number>[]): void {
  console.log(`\n## ${title}`);
  if (!rows.length) return;
  const cols = Object.keys(rows[0]!);
  const fmt = (v: string | number) => (typeof v === "number" ? (Number.isInteger(v) ? String(v) : v.toFixed(3)) : v);
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => fmt(r[c] ?? "").length)));
  console.log(`| ${cols.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`);
  console.log(`| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`);
  for (const r of rows) console.log(`| ${cols.map((c, i) => fmt(r[c] ?? "").padEnd(widths[i]!)).join(" | ")} |`);
}

export function writeResult(name: string, data: unknown): string {
  const dir = join(__dirname, "results");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.json`);
  writeFileSync(file, `${JSON.stringify({ machine: machine(), ...(data as object) }, null, 2)}\n`);
  return file;
}

/** One row of the reference host's erp_products, as the catalog benchmarks write them straight into its table. */
export function benchProductRow(j: number, updatedAt: string): Record<string, unknown> {
  return {
    id: `prd_${j}`,
    sku: `SKU-${j}`,
    barcode: `779${String(j).padStart(10, "0")}`,
    name: `Product ${j}`,
    category: "Bench",
    weight_kg: 0.5,
    price: "10.00",
    active: true,
    updated_at: updatedAt,
  };
}
