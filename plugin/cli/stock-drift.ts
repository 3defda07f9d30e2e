// `zenflow-erp stock-drift`: asks the running plugin for the drift report, follows it like any
// run, then prints the stored report (a table, or the whole report with --json). Writes nothing.
import { DRIFT_HEADERS, driftCells } from "../admin/drift-columns";
import { utc } from "../admin/format";
import type { Progress } from "../core/runs";
import { printable } from "../core/text";
import { type DriftReport, driftSummary, readDriftReport } from "../sync/stock-drift";
import { type CliContext, EXIT, type FollowOptions, runCommand } from "./commands";

export async function stockDriftCommand(c: CliContext, o: FollowOptions): Promise<number> {
  return runCommand(c, "stock-drift", { ...o, onEnd: printReport });
}

async function printReport(c: CliContext, p: Progress): Promise<number> {
  const report = p.status === "done" ? await readDriftReport(c.state) : null;
  if (!report) {
    const why = printable(p.message ?? "no reason recorded");
    if (c.json) c.out(`${JSON.stringify({ run: "stock-drift", status: p.status, message: p.message ?? null }, null, 2)}\n`);
    else c.out(`Stock drift report ${p.status}: ${why}\n`);
    return EXIT.failure;
  }
  if (c.json) c.out(`${JSON.stringify(toJson(report), null, 2)}\n`);
  else c.out(formatReport(report, c.clock.now()));
  return EXIT.ok;
}

function toJson(r: DriftReport) {
  const iso = (ms?: number) => (ms ? new Date(ms).toISOString() : null);
  return {
    ...r,
    generatedAt: iso(r.generatedAt),
    rows: r.rows.map((row) => ({ ...row, erpChangedAt: iso(row.erpChangedAt), zenflowChangedAt: iso(row.zenflowChangedAt) })),
  };
}

export function formatReport(r: DriftReport, now: number): string {
  const head =
    `Stock drift at ${utc(r.generatedAt, now)} (who owns stock levels: ${r.stockSource}): ${driftSummary(r)}; ` +
    `the full sync would write ${r.toWrite}. Nothing was written.\n`;
  if (!r.rows.length) return head;
  const table = [DRIFT_HEADERS.map(String), ...r.rows.map((row) => driftCells(row).map(printable))];
  const widths = DRIFT_HEADERS.map((_, i) => Math.max(...table.map((cells) => cells[i]!.length)));
  const lines = table.map((cells) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join("  ")
      .trimEnd(),
  );
  const cut = r.truncated ? `(the first ${r.rows.length} of ${r.differing} differing levels)\n` : "";
  return `${head}\n${lines.join("\n")}\n${cut}`;
}
