// The drift report's columns, once for every place that shows them (the dashboard page, its
// CSV download, the command line), so they cannot disagree. Times are ISO 8601 UTC.
import type { DriftRow } from "../sync/stock-compare";
import { isoOrNull } from "./format";

export const DRIFT_HEADERS = [
  "SKU",
  "ERP location",
  "ZenFlow location",
  "ERP quantity",
  "ZenFlow quantity",
  "Difference (ERP − ZenFlow)",
  "ERP last change",
  "ZenFlow last change",
  "Full sync writes",
] as const;

/** A missing level reads "missing"; a row the sync leaves alone says why. */
export function driftCells(r: DriftRow): string[] {
  return [
    r.sku,
    r.erpLocation,
    r.location,
    r.erpQuantity === null ? "missing" : String(r.erpQuantity),
    r.zenflowQuantity === null ? "missing" : String(r.zenflowQuantity),
    String(r.difference),
    isoOrNull(r.erpChangedAt) ?? "",
    isoOrNull(r.zenflowChangedAt) ?? "",
    r.direction ? (r.note ? `${r.direction} (${r.note})` : r.direction) : `nothing (${r.note ?? "left alone"})`,
  ];
}

/**
 * RFC 4180 CSV (CRLF, quotes doubled). A cell a spreadsheet would run as a formula (starting
 * with = + - @, or a tab or CR) gets a leading apostrophe, so an ERP SKU cannot inject one.
 * Numbers stay numbers: only the quantity columns may start with "-", and those are written
 * by us, not taken from outside.
 */
export function driftCsv(rows: DriftRow[]): string {
  const numeric = new Set([3, 4, 5]);
  const line = (cells: readonly string[], safe: (i: number) => boolean) => cells.map((c, i) => csvCell(c, safe(i))).join(",");
  const out = [line(DRIFT_HEADERS, () => false)];
  for (const r of rows) {
    const cells = driftCells(r);
    out.push(line(cells, (i) => numeric.has(i) && /^-?\d+(\.\d+)?$/.test(cells[i]!)));
  }
  return `${out.join("\r\n")}\r\n`;
}

function csvCell(value: string, isNumber: boolean): string {
  const v = !isNumber && /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}
