// Vendure admin authentication for the plugin's admin router and our settings page. A request
// passes with a Vendure session whose user holds SuperAdmin or ZenflowAdmin on the default
// channel. The session token comes from `Authorization: Bearer` (API clients), Vendure's own
// session cookie, or the cookie our sign-in form sets (Vendure's Dashboard keeps its token to
// itself, and an iframe cannot send a bearer header).
import { createHmac, timingSafeEqual } from "node:crypto";
import { DEFAULT_CHANNEL_CODE } from "@vendure/common/lib/shared-constants";
import { PermissionDefinition, type SessionService } from "@vendure/core";
import type { NextFunction, Request, Response } from "express";

export const zenflowAdminPermission = new PermissionDefinition({
  name: "ZenflowAdmin",
  description: "Allows changing the ZenFlow warehouse settings, running its actions and using its dashboard",
});

export const ADMIN_COOKIE = "zenflow_admin";
const ALLOWED = new Set(["SuperAdmin", zenflowAdminPermission.Permission]);

export interface AdminIdentity {
  userId: string;
  identifier: string;
  token: string;
  /** True when the token came from a cookie: state-changing forms then need the CSRF token. */
  viaCookie: boolean;
}

const identities = new WeakMap<Request, AdminIdentity>();

/** Who requireAdmin let through (set for the rest of this request only). */
export function adminOf(req: Request): AdminIdentity | undefined {
  return identities.get(req);
}

function cookieValue(req: Request, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) {
      try {
        return decodeURIComponent(v.join("="));
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

function tokenOf(req: Request): { token: string; viaCookie: boolean } | null {
  const auth = req.headers.authorization;
  if (auth?.startsWith("Bearer ")) return { token: auth.slice(7).trim(), viaCookie: false };
  const fromSession = (req as { session?: { token?: unknown } }).session?.token;
  if (typeof fromSession === "string" && fromSession) return { token: fromSession, viaCookie: true };
  const ours = cookieValue(req, ADMIN_COOKIE);
  return ours ? { token: ours, viaCookie: true } : null;
}

export async function identify(sessions: SessionService, req: Request): Promise<AdminIdentity | null> {
  const found = tokenOf(req);
  if (!found) return null;
  const session = await sessions.getSessionFromToken(found.token);
  if (!session?.user || new Date(session.expires).getTime() <= Date.now()) return null;
  const channel = session.user.channelPermissions.find((c) => c.code === DEFAULT_CHANNEL_CODE);
  if (!channel?.permissions.some((p) => ALLOWED.has(p))) return null;
  return { userId: String(session.user.id), identifier: session.user.identifier, token: found.token, viaCookie: found.viaCookie };
}

/** Express middleware: 401 (JSON) or a redirect to the sign-in page (HTML GETs). */
export function requireAdmin(sessions: () => SessionService | null, loginPath: string) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const service = sessions();
    if (!service) {
      res.status(503).json({ error: "ZenFlow is starting; try again in a moment" });
      return;
    }
    let who: AdminIdentity | null = null;
    try {
      who = await identify(service, req);
    } catch {
      who = null;
    }
    if (who) {
      identities.set(req, who);
      next();
      return;
    }
    if (req.method === "GET" && (req.headers.accept ?? "").includes("text/html")) {
      res.redirect(302, `${loginPath}?next=${encodeURIComponent(req.originalUrl)}`);
      return;
    }
    res.status(401).json({ error: "sign in to Vendure as an administrator with the ZenflowAdmin permission" });
  };
}

/** A CSRF token bound to the admin's session: forms posted with the cookie must carry it. */
export function csrfToken(who: AdminIdentity): string {
  return createHmac("sha256", who.token).update("zenflow-settings-form").digest("base64url");
}

export function csrfValid(who: AdminIdentity, given: unknown): boolean {
  if (!who.viaCookie) return true;
  if (typeof given !== "string") return false;
  const want = Buffer.from(csrfToken(who));
  const got = Buffer.from(given);
  return want.length === got.length && timingSafeEqual(want, got);
}
