// The settings page in Vendure's admin, served by the adapter at /admin/zenflow/ behind
// Vendure admin authentication: health, the config form (generated from the manifest),
// the manifest's actions, and the plugin's own dashboard embedded below (same origin).
// JSON twins of each (under api/) serve scripts and the Dashboard extension.
import express, { type Request, type Response, type Router } from "express";
import type { ActionResult, HealthReport, PluginManifest } from "zenflow-erp-plugin/host-api";
import { type AdminIdentity, adminOf, csrfToken, csrfValid } from "./admin-auth";
import type { ConfigStore, SaveResult } from "./config-store";
import type { SchemaNode } from "./config-schema";
import { esc, page, PAGE_HEADERS } from "./html";
import { readFields, renderFields } from "./settings-form";

export interface SettingsDeps {
  manifest: PluginManifest;
  store: () => ConfigStore | null;
  health: () => Promise<HealthReport>;
  runAction: (id: string, input?: unknown) => Promise<ActionResult>;
  /** Where the plugin's admin router (its dashboard) is mounted, e.g. /admin/plugins/zenflow. */
  dashboardPath: string;
  properties: [string, SchemaNode][];
}

type Flash = { good: boolean; lines: string[] } | null;

const STATUS_WORDS: Record<string, string> = { ok: "OK", degraded: "Needs attention", down: "Down", unconfigured: "Not configured" };

export function settingsRouter(d: SettingsDeps): Router {
  const router = express.Router();
  const form = express.urlencoded({ extended: false, limit: "64kb", parameterLimit: 100 });
  const json = express.json({ limit: "64kb" });

  async function render(req: Request, res: Response, flash: Flash, status = 200): Promise<void> {
    const who = adminOf(req)!;
    const store = d.store();
    if (!store) {
      res.status(503).type("text/plain").send("ZenFlow is starting; reload in a moment");
      return;
    }
    const health = await d.health();
    const csrf = esc(csrfToken(who));
    const flashHtml = flash ? `<div class="flash ${flash.good ? "good" : "bad"}">${flash.lines.map(esc).join("<br>")}</div>` : "";
    const actions = d.manifest.actions
      .map(
        (a) => `<form method="post" action="actions/${esc(a.id)}"><input type="hidden" name="csrf" value="${csrf}">` +
          `<button class="secondary" title="${esc(a.description ?? "")}">${esc(a.label)}</button></form>`,
      )
      .join("");
    const body = `<h1>ZenFlow warehouse sync</h1>${flashHtml}
<div class="card"><div class="health ${esc(health.status)}" id="health">${esc(STATUS_WORDS[health.status] ?? health.status)}: ${esc(health.message ?? "")}</div>
<div class="actions">${actions}</div></div>
<div class="card"><h2>Settings</h2><form method="post" action="settings"><input type="hidden" name="csrf" value="${csrf}">
${renderFields(d.properties, store.publicValues(), store.secretsSet())}
<button>Save settings</button></form></div>
<h2>Dashboard</h2><iframe title="ZenFlow dashboard" src="${esc(d.dashboardPath)}/"></iframe>
<form method="post" action="logout"><button class="secondary">Sign out of this page</button></form>`;
    res.status(status).set(PAGE_HEADERS).type("html").send(page("ZenFlow — Vendure", body));
  }

  const checkCsrf = (who: AdminIdentity, token: unknown, res: Response): boolean => {
    if (csrfValid(who, token)) return true;
    res.status(403).type("text/plain").send("This form has expired; reload the page and try again.");
    return false;
  };

  const saveForm = async (raw: Record<string, unknown>): Promise<SaveResult> => {
    const store = d.store();
    if (!store) return { ok: false, errors: ["ZenFlow is starting; try again in a moment"] };
    const { values, errors } = readFields(d.properties, raw);
    if (errors.length) return { ok: false, errors };
    return store.save(values);
  };

  router.get("/", (req, res, next) => {
    // Relative form actions need the trailing slash, whatever prefix we are mounted under.
    const [path = "", query] = req.originalUrl.split("?", 2);
    if (!path.endsWith("/")) {
      res.redirect(302, `${path}/${query ? `?${query}` : ""}`);
      return;
    }
    render(req, res, null).catch(next);
  });

  router.post("/settings", form, (req, res, next) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (!checkCsrf(adminOf(req)!, body.csrf, res)) return;
    saveForm(body)
      .then((r) => render(req, res, r.ok ? { good: true, lines: ["Settings saved. Every Vendure process picks them up within 2 seconds."] } : { good: false, lines: r.errors }, r.ok ? 200 : 422))
      .catch(next);
  });

  router.post("/actions/:id", form, (req, res, next) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (!checkCsrf(adminOf(req)!, body.csrf, res)) return;
    d.runAction(String(req.params.id))
      .then((r) => render(req, res, { good: r.ok, lines: [r.message] }))
      .catch(next);
  });

  router.get("/api/settings", async (_req, res, next) => {
    try {
      const store = d.store();
      if (!store) return void res.status(503).json({ error: "starting" });
      res.set("Cache-Control", "no-store").json({
        values: store.publicValues(),
        secretsSet: store.secretsSet(),
        schema: d.manifest.config,
        actions: d.manifest.actions,
      });
    } catch (err) {
      next(err);
    }
  });

  router.put("/api/settings", json, async (req, res, next) => {
    try {
      if (!checkCsrf(adminOf(req)!, req.headers["x-zenflow-csrf"], res)) return;
      const store = d.store();
      if (!store) return void res.status(503).json({ ok: false, errors: ["starting"] });
      const r = await store.save(req.body);
      res.status(r.ok ? 200 : 422).json(r);
    } catch (err) {
      next(err);
    }
  });

  router.get("/api/health", async (_req, res, next) => {
    try {
      res.set("Cache-Control", "no-store").json(await d.health());
    } catch (err) {
      next(err);
    }
  });

  router.post("/api/actions/:id", json, async (req, res, next) => {
    try {
      if (!checkCsrf(adminOf(req)!, req.headers["x-zenflow-csrf"], res)) return;
      res.json(await d.runAction(String(req.params.id), (req.body as { input?: unknown } | undefined)?.input));
    } catch (err) {
      next(err);
    }
  });

  return router;
}
