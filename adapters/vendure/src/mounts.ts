// The plugin's HTTP surface in Vendure, registered through `apiOptions.middleware` as
// `beforeListen` handlers: mounted on Vendure's express app before Nest adds its body
// parsers, so the routers get bare, unparsed requests (raw bytes for webhook signatures).
//   /plugins/<id>         the plugin's public router (no auth: the plugin checks signatures)
//   /admin/plugins/<id>   the plugin's admin router (dashboard, metrics), Vendure admin auth
//   /admin/zenflow        the adapter's settings page, Vendure admin auth (sign-in page open)
import type { SessionService, VendureConfig } from "@vendure/core";
import type { NextFunction, Request, Response, Router } from "express";
import { requireAdmin } from "./admin-auth";
import { ADMIN_PREFIX, PUBLIC_PREFIX, SETTINGS_PATH } from "./options";
import { RouterSlot } from "./router-slot";

const MOUNTS = Symbol.for("zenflow.vendure.mounts");

/** Per Vendure app: filled in when the plugin boots in the server process. */
export interface Mounts {
  public: RouterSlot;
  admin: RouterSlot;
  sessions: SessionService | null;
  settings: Router | null;
  login: Router | null;
}

type Handler = ((req: Request, res: Response, next: NextFunction) => void) & { [MOUNTS]?: Mounts };

export function addMounts(config: VendureConfig, pluginId: string): void {
  const mounts: Mounts = { public: new RouterSlot(), admin: new RouterSlot(), sessions: null, settings: null, login: null };
  const auth = requireAdmin(() => mounts.sessions, `${SETTINGS_PATH}/login`);
  const publicHandler: Handler = (req, res, next) => mounts.public.handler(req, res, next);
  publicHandler[MOUNTS] = mounts;
  const adminHandler: Handler = (req, res, next) => void auth(req, res, () => mounts.admin.handler(req, res, next));
  const settingsHandler: Handler = (req, res, next) => {
    const { login, settings } = mounts;
    if (!login || !settings) {
      res.status(503).type("text/plain").send("ZenFlow is starting; reload in a moment");
      return;
    }
    login(req, res, () => void auth(req, res, () => settings(req, res, next)));
  };
  config.apiOptions.middleware = [
    ...(config.apiOptions.middleware ?? []),
    { route: `${PUBLIC_PREFIX}/${pluginId}`, handler: publicHandler, beforeListen: true },
    { route: `${ADMIN_PREFIX}/${pluginId}`, handler: adminHandler, beforeListen: true },
    { route: SETTINGS_PATH, handler: settingsHandler, beforeListen: true },
  ];
}

/** The Mounts that addMounts registered in this app's (merged) config. */
export function findMounts(middleware: VendureConfig["apiOptions"]["middleware"]): Mounts | null {
  for (const m of middleware ?? []) {
    const found = (m.handler as Handler)[MOUNTS];
    if (found) return found;
  }
  return null;
}
