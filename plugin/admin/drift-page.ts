// The dashboard's Stock drift page: the latest drift report (summary, the first rows, a CSV
// download of all stored rows), the state of a report being made, and a button for a new one.
// Pure, like the dashboard: a model in, escaped HTML out.
import type { Progress } from "../core/runs";
import type { DriftRow } from "../sync/stock-compare";
import { type DriftReport, driftSummary, MAX_REPORT_ROWS } from "../sync/stock-drift";
import { page } from "./dashboard-page";
import { DRIFT_HEADERS, driftCells } from "./drift-columns";
import { utc } from "./format";
import { html } from "./html";

/** Rows shown on the page; the CSV has every stored row. */
export const DRIFT_PAGE_ROWS = 500;

export interface DriftPageModel {
  now: number;
  report: DriftReport | null;
  progress: Progress | null;
  /** Why the last full sync stopped (the drift guard), if it did. */
  syncStopped: string | null;
  flash: { text: string; level: "ok" | "error" } | null;
  token: string;
}

/** The CSV's cells, with times as the dashboard writes them ("15:00:33 UTC" today). */
function pageCells(row: DriftRow, now: number): string[] {
  const cells = driftCells(row);
  cells[6] = row.erpChangedAt ? utc(row.erpChangedAt, now) : "";
  cells[7] = row.zenflowChangedAt ? utc(row.zenflowChangedAt, now) : "";
  return cells;
}

export function renderDriftPage(m: DriftPageModel): string {
  const r = m.report;
  const running = m.progress?.status === "running";
  const progress = m.progress
    ? html`<p class="muted" id="drift-progress">
        Last report run: <strong>${m.progress.status}</strong> · ${m.progress.done}${m.progress.total ? ` of ${m.progress.total}` : ""} ZenFlow
        levels read · updated ${utc(m.progress.updatedAt, m.now)}${m.progress.message ? ` · ${m.progress.message}` : ""}
      </p>`
    : "";
  const summary = r
    ? html`<section id="drift-summary">
        <h2>${driftSummary(r)}</h2>
        <p>
          Made ${utc(r.generatedAt, m.now)} ${r.trigger === "guard" ? "by the full stock sync the drift guard stopped" : "on request"} · who
          owns stock levels: <strong>${r.stockSource}</strong> · ${r.compared} levels compared, ${r.differing} differ, the full sync would
          write ${r.toWrite} · ${r.requests} ZenFlow requests${r.withoutSku ? ` · ${r.withoutSku} ZenFlow rows without a SKU left out` : ""}
        </p>
        ${
          r.truncated
            ? html`<p class="warn">Only the first ${MAX_REPORT_ROWS.toLocaleString("en-US")} of ${r.differing} differing levels are kept.</p>`
            : ""
        }
        <p>Nothing was written to the ERP or ZenFlow. ${r.rows.length ? html`<a href="drift.csv" download>Download CSV</a> (${r.rows.length} rows)` : ""}</p>
      </section>`
    : html`<section><p class="muted">No drift report yet.</p></section>`;
  const rows = r?.rows.slice(0, DRIFT_PAGE_ROWS) ?? [];
  const table = rows.length
    ? html`<section id="drift-rows">
        ${r!.rows.length > rows.length ? html`<p class="muted">The first ${rows.length} rows; the CSV has all ${r!.rows.length}.</p>` : ""}
        <table>
          <thead>
            <tr>
              ${DRIFT_HEADERS.map((h, i) => html`<th scope="col" class="${i >= 3 && i <= 5 ? "num" : ""}">${h}</th>`)}
            </tr>
          </thead>
          <tbody>
            ${rows.map(
              (row) =>
                html`<tr>
                  ${pageCells(row, m.now).map((c, i) => html`<td class="${i >= 3 && i <= 5 ? "num" : i === 0 ? "nowrap" : ""}">${c}</td>`)}
                </tr>`,
            )}
          </tbody>
        </table>
      </section>`
    : "";
  const body = html`
    <header>
      <div>
        <h1>Stock drift</h1>
        <p class="muted">As of ${utc(m.now, m.now)} · <a href="./">Back to the dashboard</a> · <a href="drift">Refresh</a></p>
      </div>
      <form method="post" action="drift">
        <input type="hidden" name="csrf" value="${m.token}" />
        <button type="submit" ${running ? "disabled" : ""}>${running ? "A report is being made…" : "Make a new report"}</button>
      </form>
    </header>
    ${m.flash ? html`<p class="flash ${m.flash.level}" role="status">${m.flash.text}</p>` : ""}
    ${m.syncStopped ? html`<p class="warn" id="sync-stopped">Full stock sync ${m.syncStopped}</p>` : ""} ${progress} ${summary} ${table}
  `;
  return page(
    "ZenFlow stock drift",
    html`<style>
      td.nowrap { white-space: nowrap; }
    </style>
    ${body}`,
  );
}
