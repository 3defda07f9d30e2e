// Webhook subscriptions (docs §8.1). Only create and list exist in the docs, so
// there is no delete/update; the secret is shown once, at creation.
import type { SandboxContext } from "./context";
import { validationError, type FieldError } from "./errors";
import { EVENT_NAMES } from "./events";
import { randomHex } from "./signature";
import { isoSeconds } from "./time";
import type { SandboxWebhook } from "./types";
import { isNonEmptyString, requireObjectBody } from "./validate";

export function createWebhook(ctx: SandboxContext, rawBody: unknown): SandboxWebhook {
  const body = requireObjectBody(rawBody);
  const errors: FieldError[] = [];
  if (!isNonEmptyString(body.name)) errors.push({ field: "name", message: "Required and must be a non-empty string" });
  if (!isHttpUrl(body.url)) errors.push({ field: "url", message: "Must be an http(s) URL" });
  if (!Array.isArray(body.events) || body.events.length === 0) {
    errors.push({ field: "events", message: "At least one event is required" });
  } else {
    body.events.forEach((e: unknown, i: number) => {
      if (typeof e !== "string" || !EVENT_NAMES.includes(e))
        errors.push({ field: `events[${i}]`, message: `Unknown event ${String(e)}; use one of ${EVENT_NAMES.join(", ")}` });
    });
  }
  if (errors.length > 0) throw validationError("Invalid webhook data", errors);
  const hook: SandboxWebhook = {
    id: `wh_${randomHex(6)}`,
    name: body.name as string,
    url: body.url as string,
    events: [...new Set(body.events as string[])],
    secret: `whsec_${randomHex(16)}`,
    active: true,
    created_at: isoSeconds(ctx.now()),
  };
  ctx.state.webhooks.push(hook);
  return { ...hook, events: [...hook.events] };
}

/** Listing never includes the secret (it is shown only in the create answer). */
export function publicWebhook(h: SandboxWebhook): Omit<SandboxWebhook, "secret"> {
  return { id: h.id, name: h.name, url: h.url, events: [...h.events], active: h.active, created_at: h.created_at };
}

function isHttpUrl(v: unknown): v is string {
  if (typeof v !== "string") return false;
  try {
    const u = new URL(v);
    return u.protocol === "http:" || u.protocol === "https:";
  } catch {
    return false;
  }
}
