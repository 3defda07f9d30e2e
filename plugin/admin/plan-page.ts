// The dashboard's Next sync page: what the next sync will send and when (admin/send-plan.ts),
// per kind, per budget minute and request by request. Pure, like the dashboard and the drift
// page: a model in, escaped HTML out (order numbers and SKUs are ERP data: hostile input).
import { page } from "./dashboard-page";
import { oneLine, plural, utc, zoned, zoneFormatter } from "./format";
import { type Html, html } from "./html";
import { type KindPlan, type PlannedSend, type SendPlan, budgetUsedText, refsText } from "./send-plan";

/** Requests the page lists one by one; the counts and the minutes cover all of them. */
const PLAN_PAGE_REQUESTS = 200;
/** Budget minutes the page lists. */
const PLAN_PAGE_WINDOWS = 120;

export interface PlanPageModel {
  now: number;
  /** The plan computed for this page; null while the plugin is not configured (or it could not be computed). */
  plan: SendPlan | null;
  /** Why the plan could not be computed (describeError), if it could not. */
  error?: string | null;
  /** The ERP's time zone (IANA): the minutes are shown in it too unless it is UTC. */
  timeZone?: string;
}

const WHY: Record<PlannedSend["why"], string> = {
  plentiful: "budget plentiful: sent at once",
  full: "full batch",
  waited: "waited the hold bound",
  alone: "a request of its own: never held",
};

export function renderPlanPage(m: PlanPageModel): string {
  const body = html`
    <header>
      <div>
        <h1>Next sync</h1>
        <p class="muted">As of ${utc(m.now, m.now)} · <a href="./">Back to the dashboard</a> · <a href="plan">Refresh</a></p>
      </div>
    </header>
    ${m.error ? html`<p class="warn" id="plan-error">The plan could not be computed: ${oneLine(m.error, 600)}</p>` : ""}
    ${m.plan ? planSections(m.plan, m.now, m.timeZone) : m.error ? "" : notConfigured()}
  `;
  return page(
    "ZenFlow next sync",
    html`<style>
      td.nowrap, th.nowrap { white-space: nowrap; }
    </style>
    ${body}`,
  );
}

function notConfigured(): Html {
  return html`<section id="plan-summary">
    <h2>The plugin is not configured</h2>
    <p class="muted">Until a ZenFlow API key and the settings are saved nothing is sent, so there is no plan to show.</p>
  </section>`;
}

function planSections(p: SendPlan, now: number, timeZone: string | undefined): Html {
  const idle = !p.waiting && p.kinds.every((k) => !k.later && !k.running);
  const headline = html`<section id="plan-summary">
    <h2>${idle ? "Nothing waiting: ZenFlow has everything." : p.summary}</h2>
    <p>Nothing is sent by this page. ${budgetUsedText(p)}.</p>
    ${p.pausedUntil ? html`<p class="warn">Sending is paused until ${utc(p.pausedUntil, now)} (${p.pauseReason ?? "paused"}).</p>` : ""}
    ${
      idle
        ? ""
        : html`<p class="muted">
            Computed just now by the code that sends: each kind's own classification of its jobs, the worker's decision to hold a
            partial batch and the rate budget's admission rule, in the limiter's priority order.
          </p>`
    }
  </section>`;
  if (idle) return headline;
  return html`${headline} ${kindSection(p.kinds, now)} ${windowSection(p, now, timeZone)} ${requestSection(p.requests, now)}`;
}

function kindSection(kinds: KindPlan[], now: number): Html {
  const short = kinds.find((k) => k.budgetShort && k.holdMs > 0);
  const num = (n: number) => html`<td class="num">${n}</td>`;
  return html`<section id="plan-kinds">
    <h2>Per kind</h2>
    <table>
      <thead>
        <tr>
          <th scope="col">Kind</th>
          <th scope="col" class="num">Due</th>
          <th scope="col" class="num">Requests</th>
          <th scope="col" class="num">Without request</th>
          <th scope="col">Held back</th>
          <th scope="col" class="num">Being sent</th>
          <th scope="col" class="num">Not routed yet</th>
          <th scope="col">Later (retries)</th>
        </tr>
      </thead>
      <tbody>
        ${kinds.map(
          (k) => html`<tr data-kind="${k.kind}">
            <th scope="row">${k.kind}</th>
            ${num(k.due)} ${num(k.requests)} ${num(k.withoutRequest)}
            <td class="nowrap">${k.held ? `${k.held.jobs} until ${utc(k.held.until, now)}` : "—"}</td>
            ${num(k.running)} ${num(k.unrouted)}
            <td class="nowrap">${k.later ? `${k.later}, next at ${utc(k.nextAt, now)}` : "—"}</td>
          </tr>`,
        )}
      </tbody>
    </table>
    <p class="muted">
      Due: waiting to be sent now. Without request: due changes that need nothing sent (nothing ZenFlow tracks changed, not
      eligible). Not routed yet: ERP changes still in the event log (changes of one record may merge).
      ${
        short
          ? ` The rate budget is what limits sending now: a request with fewer than it can carry waits up to ${Math.round(short.holdMs / 1000)} s for more to join it.`
          : ""
      }
    </p>
  </section>`;
}

function windowSection(p: SendPlan, now: number, timeZone: string | undefined): Html {
  if (!p.windows.length) return html``;
  const zone = timeZone ? zoneFormatter(timeZone) : null;
  const shown = p.windows.slice(0, PLAN_PAGE_WINDOWS);
  let sent = 0;
  const rows = shown.map((w) => {
    sent += w.requests;
    return html`<tr>
      <td class="nowrap">${utc(w.start, now)}</td>
      ${zone ? html`<td class="nowrap">${zoned(w.start, zone)}</td>` : ""}
      <td class="num">${w.requests}</td>
      <td class="num">${sent}</td>
    </tr>`;
  });
  return html`<section id="plan-windows">
    <h2>Per budget minute</h2>
    <p class="muted">
      The minute each request's token falls in, at the current budget.
      ${p.throughAt ? `The last one at ${utc(p.throughAt, now)}.` : ""}
    </p>
    <table>
      <thead>
        <tr>
          <th scope="col">Minute (UTC)</th>
          ${zone ? html`<th scope="col">ERP time (${zone.resolvedOptions().timeZone})</th>` : ""}
          <th scope="col" class="num">Requests</th>
          <th scope="col" class="num">Sent by then</th>
        </tr>
      </thead>
      <tbody>
        ${rows}
      </tbody>
    </table>
    ${p.windows.length > shown.length ? html`<p class="muted">(the first ${shown.length} of ${p.windows.length} minutes)</p>` : ""}
  </section>`;
}

function carries(r: PlannedSend): Html | string {
  if (r.estimated) return html`<span class="muted">not read one by one</span>`;
  return oneLine(refsText(r.refs), 400);
}

function requestSection(requests: PlannedSend[], now: number): Html {
  if (!requests.length) return html``;
  const shown = requests.slice(0, PLAN_PAGE_REQUESTS);
  return html`<section id="plan-requests">
    <h2>Requests</h2>
    <table>
      <thead>
        <tr>
          <th scope="col" class="nowrap">Token at (UTC)</th>
          <th scope="col">Kind</th>
          <th scope="col">Request</th>
          <th scope="col" class="num">Jobs</th>
          <th scope="col">Why then</th>
          <th scope="col">Carries</th>
        </tr>
      </thead>
      <tbody>
        ${shown.map(
          (r) => html`<tr>
            <td class="nowrap">${r.at === null ? "later" : utc(r.at, now)}</td>
            <td>${r.kind}</td>
            <td class="nowrap"><code>${r.endpoint}</code></td>
            <td class="num">${r.estimated ? "~" : r.jobIds.length}</td>
            <td>${r.estimated ? "full batch (estimated)" : WHY[r.why]}</td>
            <td class="message">${carries(r)}</td>
          </tr>`,
        )}
      </tbody>
    </table>
    ${requests.length > shown.length ? html`<p class="muted">(the first ${shown.length} of ${plural(requests.length, "request")})</p>` : ""}
  </section>`;
}
