// The host's HTTP surface: plugin routers (public and admin), the host's admin screens, the
// /erp JSON API and /healthz. Bodies are parsed only on the host's own routes: plugin
// routers receive the raw request (contract section 4).
import express, { type Express, type NextFunction, type Request, type Response } from "express";
import type { Knex } from "knex";
import type { ActionResult, HealthReport, PluginLogger, PluginManifest } from "../../plugin/core/host-api";
import { ADMIN_COOKIE, isAdmin, requireAdmin, sameSecret } from "./admin-auth";
import type { ConfigStore, SaveResult } from "./config-store";
import { properties, type JsonObject, type SchemaNode } from "./config-schema";
import type { Erp } from "./erp";
import { erpRouter, statusForError } from "./erp-http";
import type { EventStat } from "./event-stats";
import { parseConfigForm, type FormState } from "./pages/config-form";
import { loginPage, pluginListPage, pluginManagerPage } from "./pages/admin-pages";
import type { HealthSnapshot, PluginState } from "./plugin-runtime";
import type { RouterSlot } from "./router-slot";

export interface AppDeps {
  adminToken: string;
  publicBaseUrl: () => string;
  processName?: string;
  manifest: PluginManifest;
  db: Knex;
  log: PluginLogger;
  erp: Erp;
  slots: { public: RouterSlot; admin: RouterSlot };
  config: ConfigStore;
  state: () => PluginState;
  lastHealth: () => HealthSnapshot | null;
  health: () => Promise<HealthReport>;
  enable: () => Promise<void>;
  disable: () => Promise<void>;
  saveConfig: (values: Record<string, unknown>) => Promise<SaveResult>;
  runAction: (id: string, input?: unknown) => Promise<ActionResult>;
  eventStats: () => EventStat[];
}

function wantsJson(req: Request): boolean {
  return req.is("application/json") === "application/json" || req.accepts(["html", "json"]) === "json";
}

export function mountRoutes(app: Express, d: AppDeps): void {
  const id = d.manifest.id;
  const schema = d.manifest.config as SchemaNode;
  const managerBase = `/admin/plugin-manager/${id}`;

  app.get("/healthz", async (_req, res) => {
    // Liveness of the host only: no plugin details, no authentication.
    try {
      await d.db.raw("select 1");
      res.json({ status: "ok" });
    } catch {
      res.status(503).json({ status: "unavailable" });
    }
  });

  app.get("/admin/login", (req, res) => {
    const token = typeof req.query.token === "string" ? req.query.token : undefined;
    if (token === undefined) {
      res.type("html").send(loginPage(false));
      return;
    }
    if (!sameSecret(token, d.adminToken)) {
      res.status(401).type("html").send(loginPage(true));
      return;
    }
    res.cookie(ADMIN_COOKIE, token, {
      httpOnly: true,
      sameSite: "lax",
      path: "/",
      secure: d.publicBaseUrl().startsWith("https:"),
    });
    res.redirect(303, "/admin");
  });

  // Plugin routers: looked up per request, so disable/enable swaps them cleanly.
  app.use(`/plugins/${id}`, d.slots.public.handler);
  app.use(`/admin/plugins/${id}`, requireAdmin(d.adminToken), d.slots.admin.handler);

  app.use("/erp", requireAdmin(d.adminToken), erpRouter(d.erp, d.eventStats));

  const pages = express.Router();
  pages.use((req, res, next) => {
    if (isAdmin(req, d.adminToken)) {
      next();
      return;
    }
    if (req.method === "GET" && req.accepts(["json", "html"]) === "html") res.status(401).type("html").send(loginPage(false));
    else res.status(401).json({ error: "admin authentication required" });
  });
  const forThisPlugin = (req: Request, res: Response, next: NextFunction) => {
    if (req.params.id === id) next();
    else res.status(404).json({ error: `no plugin "${String(req.params.id)}"` });
  };
  const formState = (values?: JsonObject): FormState => ({
    values: values ?? d.config.savedValues(),
    savedSecrets: new Set(
      properties(schema)
        .filter(([n, p]) => p.writeOnly === true && d.config.hasSavedSecret([n]))
        .map(([n]) => n),
    ),
  });
  const renderManager = async (
    res: Response,
    status: number,
    extra: { values?: JsonObject; errors?: string[]; saved?: boolean; actionResult?: { id: string; result: ActionResult } },
  ) => {
    const health = d.state() === "active" ? await d.health() : null;
    res
      .status(status)
      .type("html")
      .send(
        pluginManagerPage({
          manifest: d.manifest,
          state: d.state(),
          health,
          form: formState(extra.values),
          ...(extra.errors ? { errors: extra.errors } : {}),
          ...(extra.saved ? { saved: true } : {}),
          ...(extra.actionResult ? { actionResult: extra.actionResult } : {}),
        }),
      );
  };

  pages.get("/", (_req, res) => {
    res.type("html").send(pluginListPage({ manifest: d.manifest, state: d.state(), health: d.lastHealth() }, d.processName));
  });
  pages.get("/plugin-manager/:id", forThisPlugin, async (req, res) => {
    await renderManager(res, 200, { saved: req.query.saved === "1" });
  });
  pages.post("/plugin-manager/:id", forThisPlugin, express.urlencoded({ extended: false, limit: "1mb" }), async (req, res) => {
    const { values, errors } = parseConfigForm(schema, (req.body ?? {}) as Record<string, unknown>);
    if (errors.length > 0) {
      await renderManager(res, 400, { values, errors });
      return;
    }
    const result = await d.saveConfig(values);
    if (!result.ok) {
      await renderManager(res, 400, { values, errors: result.errors });
      return;
    }
    res.redirect(303, `${managerBase}?saved=1`);
  });
  pages.get("/plugin-manager/:id/config", forThisPlugin, (_req, res) => {
    // Secrets never leave the server: only whether one is saved.
    const secrets = properties(schema)
      .filter(([, p]) => p.writeOnly === true)
      .map(([n]) => n);
    const values = d.config.savedValues();
    for (const n of secrets) delete values[n];
    res.json({ values, savedSecrets: secrets.filter((n) => d.config.hasSavedSecret([n])) });
  });
  pages.post("/plugin-manager/:id/config", forThisPlugin, express.json({ limit: "1mb" }), async (req, res) => {
    const result = await d.saveConfig(req.body as Record<string, unknown>);
    res.status(result.ok ? 200 : 400).json(result);
  });
  pages.post(
    "/plugin-manager/:id/actions/:actionId",
    forThisPlugin,
    express.json({ limit: "1mb" }),
    express.urlencoded({ extended: false }),
    async (req, res) => {
      const actionId = String(req.params.actionId);
      const input = (req.body as { input?: unknown } | undefined)?.input;
      const result = await d.runAction(actionId, input);
      if (wantsJson(req)) {
        res.status(result.ok ? 200 : 422).json(result);
        return;
      }
      await renderManager(res, 200, { actionResult: { id: actionId, result } });
    },
  );
  pages.post("/plugin-manager/:id/enable", forThisPlugin, async (req, res) => {
    await d.enable();
    if (wantsJson(req)) res.json({ state: d.state() });
    else res.redirect(303, managerBase);
  });
  pages.post("/plugin-manager/:id/disable", forThisPlugin, async (req, res) => {
    await d.disable();
    if (wantsJson(req)) res.json({ state: d.state() });
    else res.redirect(303, managerBase);
  });
  app.use("/admin", pages);

  app.use((_req, res) => {
    res.status(404).json({ error: "not found" });
  });
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const status = statusForError(err) ?? (err as { status?: unknown }).status;
    if (typeof status === "number" && status >= 400 && status < 500) {
      res.status(status).json({ error: (err as Error).message });
      return;
    }
    d.log.error({ err, method: req.method, path: req.path }, "request failed");
    if (res.headersSent) return;
    res.status(typeof status === "number" ? status : 500).json({ error: "internal error" });
  });
}

export function createApp(): Express {
  const app = express();
  app.disable("x-powered-by");
  return app;
}
