// The plugin's admin pages over real HTTP through the reference host, as a signed-in admin's
// browser uses them: bearer auth, the dashboard, its forms and their CSRF tokens.
import assert from "node:assert/strict";
import type { Stack } from "./stack";

export function adminBase(stack: Stack): string {
  return `${stack.main.host.url}/admin/plugins/zenflow`;
}

export async function admin(stack: Stack, path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${adminBase(stack)}${path}`, {
    redirect: "manual",
    ...init,
    headers: { Authorization: `Bearer ${stack.main.host.adminToken}`, ...(init.headers as Record<string, string> | undefined) },
  });
}

export async function dashboard(stack: Stack, query = ""): Promise<string> {
  const res = await admin(stack, `/${query}`);
  assert.equal(res.status, 200);
  return res.text();
}

/** The CSRF token of the first form posting to `action`, as a browser would submit it. */
export function tokenFor(page: string, action: string): string {
  const m = new RegExp(`<form method="post" action="${action}"[^>]*>\\s*<input type="hidden" name="csrf" value="([^"]+)"`).exec(page);
  assert.ok(m, `a ${action} form on the page`);
  return m[1]!;
}

export async function post(stack: Stack, action: string, fields: Record<string, string>): Promise<Response> {
  return admin(stack, `/${action}`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields).toString(),
  });
}

/** The flash message a POST redirects to. */
export function flashOf(res: Response): string {
  const location = res.headers.get("location") ?? "";
  return new URLSearchParams(location.slice(location.indexOf("?") + 1)).get("flash") ?? "";
}
