// The host's own admin screens: the plugin list and the plugin manager (config form,
// actions, health, enable/disable). Server-rendered, no front-end build.
import type { ActionResult, HealthReport, PluginManifest } from "../../../plugin/core/host-api";
import type { SchemaNode } from "../config-schema";
import { renderConfigFields, type FormState } from "./config-form";
import { esc, html, page, statusBadge, type Html } from "./html";

export interface PluginSummary {
  manifest: PluginManifest;
  state: string;
  health: (HealthReport & { checkedAt?: string }) | null;
}

export function pluginListPage(p: PluginSummary, processName: string | undefined): string {
  const m = p.manifest;
  const health = p.health
    ? html`${statusBadge(p.health.status, p.health.message)}${p.health.checkedAt ? html`<br /><small>checked ${p.health.checkedAt}</small>` : html``}`
    : html`<em>not checked yet</em>`;
  return page(
    "Plugins",
    html`<h1>Plugins${processName ? html` <small>(${processName})</small>` : html``}</h1>
      <table>
        <thead>
          <tr>
            <th>Plugin</th>
            <th>Version</th>
            <th>State</th>
            <th>Health</th>
            <th></th>
          </tr>
        </thead>
        <tbody>
          <tr>
            <td><strong>${m.name}</strong> <code>${m.id}</code><br /><small>${m.description}</small></td>
            <td>${m.version}</td>
            <td>${p.state}</td>
            <td>${health}</td>
            <td>
              <a href="/admin/plugin-manager/${m.id}">Configure</a
              >${p.state === "active" ? html` · <a href="/admin/plugins/${m.id}/">Plugin pages</a>` : html``}
            </td>
          </tr>
        </tbody>
      </table>`,
  );
}

export interface ManagerPageInput {
  manifest: PluginManifest;
  state: string;
  health: HealthReport | null;
  form: FormState;
  errors?: string[];
  saved?: boolean;
  actionResult?: { id: string; result: ActionResult };
}

export function pluginManagerPage(p: ManagerPageInput): string {
  const m = p.manifest;
  const base = `/admin/plugin-manager/${m.id}`;
  const errors = p.errors?.length
    ? html`<div class="errors" role="alert">
        <strong>The configuration was not saved:</strong>
        <ul>
          ${p.errors.map((e) => html`<li>${e}</li>`)}
        </ul>
      </div>`
    : html``;
  const saved = p.saved ? html`<div class="ok" role="status">Configuration saved.</div>` : html``;
  const action = p.actionResult
    ? html`<div class="${p.actionResult.result.ok ? "ok" : "errors"}" role="status">
        <strong>${p.actionResult.id}:</strong> ${p.actionResult.result.ok ? "ok" : "failed"} — ${p.actionResult.result.message}${
          p.actionResult.result.details === undefined ? html`` : html`<pre>${JSON.stringify(p.actionResult.result.details, null, 2)}</pre>`
        }
      </div>`
    : html``;
  const lifecycle =
    p.state === "active"
      ? html`<form method="post" action="${base}/disable"><button>Disable</button></form>`
      : html`<form method="post" action="${base}/enable"><button>Enable</button></form>`;
  const actions: Html[] = m.actions.map(
    (a) => html`<form method="post" action="${base}/actions/${a.id}"><button title="${a.description ?? ""}">${a.label}</button></form>`,
  );
  return page(
    `${m.name} — plugin manager`,
    html`<h1>${m.name} <small>${m.version}</small></h1>
      <p>${m.description}</p>
      <p>
        <small>id <code>${m.id}</code> · by ${m.author} · ${m.license} · ERP API ${m.erpApi}</small>
      </p>
      <p>State: <strong>${p.state}</strong></p>
      ${lifecycle}
      <h2>Health</h2>
      <p>${p.health ? statusBadge(p.health.status, p.health.message) : html`<em>not checked yet</em>`}</p>
      <details>
        <summary>Hooks and permissions</summary>
        <p>Events: ${m.hooks.length ? m.hooks.map((h) => html`<code>${h}</code> `) : "none"}</p>
        <p>Permissions: ${m.permissions.length ? m.permissions.map((x) => html`<code>${x}</code> `) : "none"}</p>
      </details>
      ${action}
      ${
        m.actions.length
          ? html`<h2>Actions</h2>
              <div class="actions">${actions}</div>`
          : html``
      }
      <h2>Configuration</h2>
      ${saved}${errors}
      <form method="post" action="${base}">
        ${renderConfigFields(m.config as SchemaNode, p.form)}
        <button type="submit">Save</button>
      </form>`,
  );
}

export function loginPage(failed: boolean): string {
  return page(
    "Sign in",
    html`<h1>ERP administration</h1>
      ${failed ? html`<div class="errors" role="alert">Wrong admin token.</div>` : html``}
      <form method="get" action="/admin/login">
        <div class="field">
          <label for="token">Admin token</label><input type="password" id="token" name="token" autocomplete="current-password" />
        </div>
        <button>Sign in</button>
      </form>`,
  );
}

export { esc };
