// Sign-in for the settings page with Vendure administrator credentials (Vendure's native
// authentication). The session token Vendure returns is kept in an HttpOnly, SameSite=Strict
// cookie scoped to /admin, so the page and the embedded dashboard can be opened in a browser.
import express, { type Router } from "express";
import { ADMIN_COOKIE } from "./admin-auth";
import { esc, page, PAGE_HEADERS } from "./html";

export interface LoginDeps {
  /** Vendure session token for valid admin credentials, else null. */
  authenticate(username: string, password: string): Promise<string | null>;
  secureCookies: boolean;
  homePath: string;
}

function safeNext(next: unknown, home: string): string {
  // Only our own admin paths: never an open redirect.
  return typeof next === "string" && next.startsWith("/admin/") && !next.startsWith("//") ? next : home;
}

export function loginRouter(d: LoginDeps): Router {
  const router = express.Router();
  const form = express.urlencoded({ extended: false, limit: "8kb", parameterLimit: 10 });
  const view = (next: string, problem?: string) =>
    page(
      "Sign in — ZenFlow",
      `<h1>ZenFlow — sign in with your Vendure administrator account</h1>
<div class="card">${problem ? `<div class="flash bad">${esc(problem)}</div>` : ""}
<form method="post"><input type="hidden" name="next" value="${esc(next)}">
<label for="u">Username</label><input type="text" id="u" name="username" autocomplete="username">
<label for="p">Password</label><input type="password" id="p" name="password" autocomplete="current-password">
<button>Sign in</button></form></div>`,
    );
  const cookie = (value: string, maxAge: number) =>
    `${ADMIN_COOKIE}=${encodeURIComponent(value)}; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${d.secureCookies ? "; Secure" : ""}`;

  router.get("/login", (req, res) => {
    res.set(PAGE_HEADERS).type("html").send(view(safeNext(req.query.next, d.homePath)));
  });

  router.post("/login", form, async (req, res, next) => {
    try {
      const body = (req.body ?? {}) as Record<string, unknown>;
      const target = safeNext(body.next, d.homePath);
      const token =
        typeof body.username === "string" && typeof body.password === "string" ? await d.authenticate(body.username, body.password) : null;
      if (!token) {
        res.status(401).set(PAGE_HEADERS).type("html").send(view(target, "Wrong username or password, or the account lacks the ZenflowAdmin permission."));
        return;
      }
      res.set("Set-Cookie", cookie(token, 60 * 60 * 12)).redirect(303, target);
    } catch (err) {
      next(err);
    }
  });

  router.post("/logout", (_req, res) => {
    res.set("Set-Cookie", cookie("", 0)).redirect(303, `${d.homePath}login`);
  });

  return router;
}
