// The dashboard as one server-rendered page: readable without JavaScript, every button a
// plain POST form carrying a CSRF token. Pure: it turns a model into HTML and reads nothing.
import type { BudgetSnapshot } from "../budget/shared-budget";
import type { QueueCounts } from "./health";
import type { HealthReport } from "../core/host-api";
import { age, oneLine, plural, utc, utcFull, zoned, zoneFormatter } from "./format";
import type { OrderTimeline } from "./order-timeline";
import { Html, html } from "./html";
import { type DeadLetter, type FailureItem, type LookupResult, type RunInfo, percentOf } from "./queries";

export interface DashboardModel {
  now: number;
  health: HealthReport;
  counts: QueueCounts;
  budget: BudgetSnapshot | null;
  lastSuccessAt: number | null;
  deadLetters: DeadLetter[];
  failures: FailureItem[];
  runs: RunInfo[];
  lookup: LookupResult | null;
  /** The order timeline of the looked-up order number (absent without a query). */
  timeline: OrderTimeline | null;
  /** The ERP's time zone (IANA) for the timeline's second time column. */
  timeZone: string;
  flash: { text: string; level: "ok" | "error" } | null;
  /** CSRF tokens per form action. */
  tokens: { retry: string; discard: string; resume: string };
}

const STATUS_LABEL: Record<string, string> = { ok: "OK", degraded: "Needs attention", down: "Down", unconfigured: "Not configured" };

export function renderDashboard(m: DashboardModel): string {
  const body = html`
    <header>
      <div>
        <h1>ZenFlow sync</h1>
        <p class="muted">As of ${utc(m.now, m.now)} · <a href="./">Refresh</a> · <a href="plan">Next sync</a> · <a href="drift">Stock drift</a> · <a href="metrics">Metrics</a></p>
      </div>
      <form method="get" action="./" class="search" role="search">
        <label for="q">Look up an ERP order number or SKU</label>
        <div>
          <input id="q" name="q" value="${m.lookup?.query ?? ""}" placeholder="SO-2026-000123 or SKU" maxlength="512" />
          <button type="submit">Look up</button>
        </div>
      </form>
    </header>
    <section class="health ${m.health.status}" aria-label="Overall health">
      <span class="pill">${STATUS_LABEL[m.health.status] ?? m.health.status}</span>
      <span class="health-message">${m.health.message ?? ""}</span>
    </section>
    ${m.flash ? html`<p class="flash ${m.flash.level}" role="status">${m.flash.text}</p>` : ""}
    ${m.lookup ? lookupSection(m.lookup, m.now, m.timeline?.order ? timelineSection(m.timeline, m.timeZone) : "") : ""}
    ${glance(m)} ${nextSyncSection(m)} ${budgetSection(m.budget, m.now, m.tokens.resume)} ${m.runs.map((r) => runSection(r, m.now))} ${deadLetterSection(m)}
    ${failureSection(m.failures, m.now)} ${queueSection(m.counts)}
  `;
  return page("ZenFlow sync", body);
}

function glance(m: DashboardModel): Html {
  const c = m.counts;
  const oldest = c.oldestPendingAt ? age(m.now - c.oldestPendingAt) : "—";
  return html`<section id="glance" aria-label="At a glance" class="cards">
    ${card("Waiting", String(c.pending), "changes not yet sent")} ${card("Oldest waiting", oldest, c.oldestPendingAt ? `since ${utc(c.oldestPendingAt, m.now)}` : "nothing waiting")}
    ${card("Being sent", String(c.running), "right now")} ${card("Dead letters", String(c.dead), c.dead ? "need you, see below" : "none", c.dead ? "bad" : "")}
    ${card("Last successful call", m.lastSuccessAt ? utc(m.lastSuccessAt, m.now) : "—", m.lastSuccessAt ? `${age(m.now - m.lastSuccessAt)} ago` : "none yet")}
  </section>`;
}

/** The plan's one line, from health() (which carries it while something waits), and the way to the whole plan. */
function nextSyncSection(m: DashboardModel): Html {
  const plan = m.health.details?.plan as { summary?: unknown } | null | undefined;
  const summary =
    typeof plan?.summary === "string"
      ? plan.summary
      : !m.budget
        ? "Not known until the plugin is configured."
        : m.counts.pending
          ? `${m.counts.pending} waiting`
          : "Nothing waiting";
  return html`<section id="next-sync">
    <h2>Next sync</h2>
    <p>${summary}</p>
    <p><a href="plan">What will be sent, and when →</a></p>
  </section>`;
}

function card(title: string, value: string, note: string, tone = ""): Html {
  return html`<div class="card ${tone}">
    <div class="card-title">${title}</div>
    <div class="card-value">${value}</div>
    <div class="muted">${note}</div>
  </div>`;
}

function bar(percent: number | null, label: string): Html {
  if (percent === null) return html`<div class="bar indeterminate" role="progressbar" aria-label="${label}"><div></div></div>`;
  return html`<div class="bar" role="progressbar" aria-label="${label}" aria-valuemin="0" aria-valuemax="100" aria-valuenow="${percent}">
    <div style="width: ${percent}%"></div>
  </div>`;
}

function budgetSection(b: BudgetSnapshot | null, now: number, resumeToken: string): Html {
  if (!b) return html`<section><h2>Rate budget</h2><p class="muted">Not known until the plugin is configured.</p></section>`;
  const rows = (
    [
      ["minute", b.used.minute, b.limits.perMinute, b.resets.minute],
      ["hour", b.used.hour, b.limits.perHour, b.resets.hour],
      ["day", b.used.day, b.limits.perDay, b.resets.day],
    ] as const
  ).map(([w, used, limit, reset]) => {
    const pct = Number.isFinite(limit) && limit > 0 ? Math.min(100, Math.round((used / limit) * 100)) : null;
    return html`<tr>
      <th scope="row">This ${w}</th>
      <td class="num">${used} / ${Number.isFinite(limit) ? limit : "?"}</td>
      <td class="wide">${bar(pct, `Rate budget used this ${w}`)}</td>
      <td>resets ${utc(reset, now)}</td>
    </tr>`;
  });
  const paused =
    b.pausedUntil > now
      ? html`<p class="warn">Sending is paused for all ERP processes until ${utc(b.pausedUntil, now)}${b.pauseReason ? html` (${b.pauseReason})` : ""}.</p>
          ${
            b.pauseReason === "auth"
              ? ""
              : html`<form method="post" action="resume" class="resume">
                <input type="hidden" name="csrf" value="${resumeToken}" />
                <button type="submit">Resume sending now</button>
              </form>`
          }`
      : "";
  return html`<section id="rate-budget">
    <h2>Rate budget</h2>
    <p class="muted">Requests to ZenFlow by all ERP processes together, per window.</p>
    ${paused}
    <table>
      <tbody>
        ${rows}
      </tbody>
    </table>
  </section>`;
}

function runSection(r: RunInfo, now: number): Html {
  const p = r.progress;
  const waiting =
    r.request && (!p || p.updatedAt < r.request.requestedAt)
      ? html`<p class="muted">Requested ${utc(r.request.requestedAt, now)} by ${r.request.by}; waiting for an ERP process to start it.</p>`
      : "";
  if (!p) return html`<section><h2>${r.label}</h2>${waiting}</section>`;
  const pct = percentOf(p);
  const counts = p.total ? `${p.done} of ${p.total}` : `${p.done} done`;
  const eta = p.status === "running" && p.etaMs ? ` · about ${age(p.etaMs)} left` : "";
  return html`<section id="${r.name}">
    <h2>${r.label}</h2>
    ${bar(pct, `${r.label} progress`)}
    <p>
      <strong>${p.status}</strong> · ${counts}${pct !== null ? ` (${pct}%)` : ""} · ${plural(p.errors, "error")}${eta} · started
      ${utc(p.startedAt, now)}, updated ${utc(p.updatedAt, now)}
    </p>
    ${p.message ? html`<p class="muted">${p.message}</p>` : ""} ${waiting}
  </section>`;
}

function deadLetterSection(m: DashboardModel): Html {
  const total = m.counts.dead;
  if (!m.deadLetters.length)
    return html`<section id="dead-letters">
      <h2>Dead letters</h2>
      <p class="muted">None: every change either reached ZenFlow or is still being tried.</p>
    </section>`;
  const rows = m.deadLetters.map((d) => {
    const target = `${d.queue}:${d.id}`;
    const what = d.erpRef ?? d.entityKey ?? target;
    return html`<tr>
      <td><code>${target}</code></td>
      <td>${d.kind}<br /><strong>${what}</strong></td>
      <td>${utc(d.failedAt ?? d.createdAt, m.now)}<br /><span class="muted">${plural(d.attempts, "attempt")}</span></td>
      <td class="message">${oneLine(d.lastError, 600)}</td>
      <td class="actions">
        <form method="post" action="retry">
          <input type="hidden" name="csrf" value="${m.tokens.retry}" /><input type="hidden" name="target" value="${target}" />
          <button type="submit" aria-label="Retry ${what}">Retry</button>
        </form>
        <form method="post" action="discard">
          <input type="hidden" name="csrf" value="${m.tokens.discard}" /><input type="hidden" name="target" value="${target}" />
          <button type="submit" class="secondary" aria-label="Discard ${what}">Discard</button>
        </form>
      </td>
    </tr>`;
  });
  return html`<section id="dead-letters">
    <h2>Dead letters (${total})</h2>
    <p class="muted">
      Changes ZenFlow refused or that failed too often. Fix the cause (usually the ERP record), then Retry; Discard gives up on
      the change for good.
    </p>
    <form method="post" action="retry" class="retry-all">
      <input type="hidden" name="csrf" value="${m.tokens.retry}" /><input type="hidden" name="target" value="all" />
      <button type="submit">Retry all (${total})</button>
    </form>
    <table>
      <thead>
        <tr>
          <th>Job</th>
          <th>What</th>
          <th>Failed</th>
          <th>ZenFlow's message</th>
          <th></th>
        </tr>
      </thead>
      <tbody>
        ${rows}
      </tbody>
    </table>
    ${total > m.deadLetters.length ? html`<p class="muted">Showing the newest ${m.deadLetters.length} of ${total}.</p>` : ""}
  </section>`;
}

function failureSection(items: FailureItem[], now: number): Html {
  if (!items.length)
    return html`<section id="recent-failures">
      <h2>Recent failures</h2>
      <p class="muted">No failures recorded.</p>
    </section>`;
  return html`<section id="recent-failures">
    <h2>Recent failures</h2>
    <table>
      <thead>
        <tr>
          <th>When</th>
          <th>What</th>
          <th>Outcome</th>
          <th>Message</th>
        </tr>
      </thead>
      <tbody>
        ${items.map(
          (f) => html`<tr>
            <td>${utc(f.at, now)}</td>
            <td>${f.kind}<br /><strong>${f.erpRef ?? f.entityKey}</strong></td>
            <td><span class="tag ${f.outcome}">${f.outcome}</span>${f.resolved ? html` <span class="tag resolved">resolved since</span>` : ""}</td>
            <td class="message">${oneLine(f.message, 600)}</td>
          </tr>`,
        )}
      </tbody>
    </table>
  </section>`;
}

function queueSection(c: QueueCounts): Html {
  const rows = [...c.byKindStatus].sort(
    (a, b) => a.queue.localeCompare(b.queue) || a.kind.localeCompare(b.kind) || a.status.localeCompare(b.status),
  );
  return html`<section id="queues">
    <h2>Queues</h2>
    ${
      rows.length
        ? html`<table>
          <thead>
            <tr>
              <th>Queue</th>
              <th>Kind</th>
              <th>Status</th>
              <th class="num">Count</th>
            </tr>
          </thead>
          <tbody>
            ${rows.map(
              (r) => html`<tr>
                <td>${r.queue}</td>
                <td>${r.kind}</td>
                <td>${r.status}</td>
                <td class="num">${r.count}</td>
              </tr>`,
            )}
          </tbody>
        </table>`
        : html`<p class="muted">Nothing waiting, running or dead.</p>`
    }
  </section>`;
}

function timelineSection(t: OrderTimeline, timeZone: string): Html {
  const zone = zoneFormatter(timeZone);
  const zoneName = zone?.resolvedOptions().timeZone ?? "";
  const rows = t.entries.map(
    (e) => html`<tr class="${e.source}">
      <td>${utcFull(e.at)}</td>
      ${zone ? html`<td>${zoned(e.at, zone)}</td>` : ""}
      <td>${e.title}</td>
      <td>${e.outcome ? html`<span class="tag ${e.outcome}">${e.outcome}</span>` : ""}</td>
      <td class="message">${oneLine(e.detail, 600)}</td>
    </tr>`,
  );
  return html`<div id="timeline">
    <h3>Timeline of order ${t.order?.number ?? t.query}</h3>
    <p class="what-now ${t.whatNow.tone}"><strong>What now:</strong> ${t.whatNow.text}</p>
    <p class="muted">
      ${zone ? `Times in UTC and in the ERP's time zone (${zoneName}, the ERP process's own).` : "Times in UTC: the ERP process runs on UTC."}
      ${t.omitted ? ` Showing the newest ${t.entries.length} entries.` : ""}
    </p>
    ${
      t.entries.length
        ? html`<table>
          <thead>
            <tr>
              <th>When (UTC)</th>
              ${zone ? html`<th>ERP time</th>` : ""}
              <th>What</th>
              <th>Outcome</th>
              <th>Details</th>
            </tr>
          </thead>
          <tbody>
            ${rows}
          </tbody>
        </table>`
        : html`<p class="muted">Nothing recorded for this order yet.</p>`
    }
  </div>`;
}

function lookupSection(l: LookupResult, now: number, timeline: Html | ""): Html {
  const found = l.erp.length || l.mappings.length || l.jobs.length || l.history.length || timeline;
  if (!found)
    return html`<section id="lookup" class="lookup">
      <h2>Lookup: ${l.query}</h2>
      <p>Nothing found: no ERP order or SKU, ZenFlow id or barcode is known by that name.</p>
    </section>`;
  return html`<section id="lookup" class="lookup">
    <h2>Lookup: ${l.query}</h2>
    ${l.erp.map((e) => html`<p>In the ERP: ${e.type} <strong>${e.label}</strong> (id ${e.id}${e.status ? `, ${e.status}` : ""})</p>`)}
    ${timeline}
    ${
      l.mappings.length
        ? html`<h3>Mapping</h3>
          <table>
            <thead>
              <tr>
                <th>Type</th>
                <th>ERP id</th>
                <th>Reference</th>
                <th>ZenFlow id</th>
                <th>ZenFlow state</th>
                <th>Last synced</th>
              </tr>
            </thead>
            <tbody>
              ${l.mappings.map(
                (m) => html`<tr>
                  <td>${m.entityType}</td>
                  <td>${m.erpId}</td>
                  <td>${m.erpRef ?? ""}${m.barcode ? html`<br /><span class="muted">barcode ${m.barcode}</span>` : ""}</td>
                  <td>${m.zenflowId ?? html`<span class="muted">not known yet</span>`}</td>
                  <td>${m.remoteState ?? ""}</td>
                  <td>${utc(m.syncedAt, now)}</td>
                </tr>`,
              )}
            </tbody>
          </table>`
        : html`<p class="muted">Not in ZenFlow yet: no mapping.</p>`
    }
    ${
      l.jobs.length
        ? html`<h3>Jobs</h3>
          <table>
            <thead>
              <tr>
                <th>Job</th>
                <th>Status</th>
                <th>Attempts</th>
                <th>Next try / last change</th>
                <th>Last error</th>
              </tr>
            </thead>
            <tbody>
              ${l.jobs.map(
                (j) => html`<tr>
                  <td><code>outbox:${j.id}</code></td>
                  <td>${j.status}</td>
                  <td class="num">${j.attempts}</td>
                  <td>${j.status === "pending" ? utc(j.runAt, now) : utc(j.updatedAt, now)}</td>
                  <td class="message">${oneLine(j.lastError, 400)}</td>
                </tr>`,
              )}
            </tbody>
          </table>`
        : ""
    }
    <h3>History</h3>
    ${
      l.history.length
        ? html`<table>
          <thead>
            <tr>
              <th>When</th>
              <th>Outcome</th>
              <th>ZenFlow id</th>
              <th>Message</th>
            </tr>
          </thead>
          <tbody>
            ${l.history.map(
              (h) => html`<tr>
                <td>${utc(h.at, now)}</td>
                <td><span class="tag ${h.outcome}">${h.outcome}</span></td>
                <td>${h.zenflowId ?? ""}</td>
                <td class="message">${oneLine(h.message, 600)}</td>
              </tr>`,
            )}
          </tbody>
        </table>`
        : html`<p class="muted">No history yet.</p>`
    }
  </section>`;
}

/** A message page (errors, refused forms) in the dashboard's style. */
export function renderNotice(title: string, message: string, back = "./"): string {
  return page(
    title,
    html`<h1>${title}</h1>
      <p>${message}</p>
      <p><a href="${back}">Back to the dashboard</a></p>`,
  );
}

/** A whole admin page: the shared head and style around `body`. */
export function page(title: string, body: Html): string {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title}</title>
        <style>
          ${new Html(CSS)}
        </style>
      </head>
      <body>
        ${body}
      </body>
    </html>`.value;
}

const CSS = `
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto; max-width: 76rem; padding: 1.5rem 1.25rem 3rem; color: #1f2328; background: #f6f8fa; }
h1 { font-size: 1.6rem; margin: 0; }
h2 { font-size: 1.15rem; margin: 0 0 .6rem; }
h3 { font-size: 1rem; margin: 1rem 0 .4rem; }
a { color: #0969da; }
header { display: flex; justify-content: space-between; align-items: flex-end; gap: 1rem; flex-wrap: wrap; margin-bottom: 1rem; }
section { background: #fff; border: 1px solid #d0d7de; border-radius: 8px; padding: 1rem 1.25rem; margin: 0 0 1rem; }
.muted { color: #59636e; }
.search label { display: block; font-size: .85rem; color: #59636e; margin-bottom: .2rem; }
.search input { font: inherit; padding: .35rem .5rem; border: 1px solid #d0d7de; border-radius: 6px; width: 16rem; }
button { font: inherit; padding: .3rem .8rem; border-radius: 6px; border: 1px solid #1f6feb; background: #1f6feb; color: #fff; cursor: pointer; }
button.secondary { background: #fff; color: #cf222e; border-color: #d0d7de; }
.health { display: flex; align-items: center; gap: .8rem; font-size: 1.05rem; border-left: 6px solid #59636e; }
.health.ok { border-left-color: #1a7f37; } .health.degraded { border-left-color: #bf8700; } .health.down { border-left-color: #cf222e; }
.pill { font-weight: 700; padding: .15rem .6rem; border-radius: 999px; background: #eaeef2; white-space: nowrap; }
.ok .pill { background: #dafbe1; color: #116329; } .degraded .pill { background: #fff8c5; color: #7d4e00; } .down .pill { background: #ffebe9; color: #a40e26; }
.flash { padding: .6rem 1rem; border-radius: 8px; margin: 0 0 1rem; } .flash.ok { background: #dafbe1; } .flash.error { background: #ffebe9; }
.warn { background: #fff8c5; padding: .4rem .7rem; border-radius: 6px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(11rem, 1fr)); gap: .75rem; background: none; border: 0; padding: 0; }
.card { background: #fff; border: 1px solid #d0d7de; border-radius: 8px; padding: .75rem 1rem; }
.card.bad { border-color: #cf222e; } .card-title { font-size: .85rem; color: #59636e; } .card-value { font-size: 1.5rem; font-weight: 700; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .45rem .6rem; border-bottom: 1px solid #eaeef2; vertical-align: top; }
thead th { font-size: .85rem; color: #59636e; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; } td.wide { width: 45%; }
td.message { max-width: 36rem; overflow-wrap: anywhere; }
td.actions { white-space: nowrap; } td.actions form { display: inline; }
.retry-all { margin: .2rem 0 .6rem; }
.bar { height: .8rem; background: #eaeef2; border-radius: 999px; overflow: hidden; min-width: 8rem; }
.bar > div { height: 100%; background: #1f6feb; }
.bar.indeterminate > div { width: 30%; background: repeating-linear-gradient(45deg, #1f6feb, #1f6feb 6px, #54aeff 6px, #54aeff 12px); }
.tag { font-size: .8rem; padding: .05rem .45rem; border-radius: 4px; background: #eaeef2; }
.tag.dead, .tag.refused { background: #ffebe9; color: #a40e26; } .tag.retry { background: #fff8c5; color: #7d4e00; }
.tag.sent, .tag.applied, .tag.resolved { background: #dafbe1; color: #116329; } .tag.discarded { background: #eaeef2; color: #59636e; }
code { font-size: .85rem; }
.what-now { padding: .5rem .8rem; border-radius: 6px; border-left: 5px solid #59636e; background: #f6f8fa; }
.what-now.ok { border-left-color: #1a7f37; } .what-now.waiting { border-left-color: #bf8700; background: #fff8c5; } .what-now.bad { border-left-color: #cf222e; background: #ffebe9; }
.tag.ok, .tag.done { background: #dafbe1; color: #116329; } .tag.note { background: #ddf4ff; color: #0a3069; }
.tag.server_error, .tag.timeout, .tag.network, .tag.rate_limited, .tag.not_sent { background: #fff8c5; color: #7d4e00; }
`;
