// Admin authentication for the host's screens, the /erp API and plugins' admin routers:
// `Authorization: Bearer <token>` for scripts, or the erp_admin cookie set by /admin/login
// for browsers.
import { createHash, timingSafeEqual } from "node:crypto";
import type { NextFunction, Request, RequestHandler, Response } from "express";

export const ADMIN_COOKIE = "erp_admin";

export function sameSecret(a: string, b: string): boolean {
  // Compare digests so that neither the length nor the content leaks through timing.
  return timingSafeEqual(createHash("sha256").update(a).digest(), createHash("sha256").update(b).digest());
}

export function readCookie(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    try {
      return decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      return undefined;
    }
  }
  return undefined;
}

export function isAdmin(req: Request, token: string): boolean {
  const auth = req.headers.authorization;
  if (typeof auth === "string" && /^Bearer\s+/i.test(auth) && sameSecret(auth.replace(/^Bearer\s+/i, "").trim(), token)) return true;
  const cookie = readCookie(req, ADMIN_COOKIE);
  return cookie !== undefined && sameSecret(cookie, token);
}

export function requireAdmin(token: string): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (isAdmin(req, token)) {
      next();
      return;
    }
    res.status(401).json({ error: "admin authentication required" });
  };
}
