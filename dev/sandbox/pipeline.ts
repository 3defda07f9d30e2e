// What happens to every /api/v1 request before its route handler, in order:
// request log → raw body → auth (401) → Retry-After block / rate limit (429) →
// fault selection → counting + X-RateLimit-* headers → scope (403) → fault action →
// latency → JSON body check (400) → handler.
import express, { type ErrorRequestHandler, type RequestHandler, type Response } from "express";
import { performance } from "node:perf_hooks";
import type { SandboxContext } from "./context";
import { ApiError, fieldError } from "./errors";
import { hasScope, keyLabel, requiredScope } from "./keys";
import { fail, failWith } from "./respond";
import type { RequestLogEntry } from "./types";

const WRITE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

const FIVE_XX: Record<number, { code: string; message: string }> = {
  500: { code: "internal_error", message: "Internal server error" },
  502: { code: "bad_gateway", message: "Bad gateway" },
  503: { code: "service_unavailable", message: "Service temporarily unavailable" },
};

function entryOf(res: Response): RequestLogEntry {
  return res.locals.entry as RequestLogEntry;
}

export function apiPipeline(ctx: SandboxContext): RequestHandler[] {
  const logStart: RequestHandler = (req, res, next) => {
    const t0 = performance.now();
    const presented = req.get("X-API-Key");
    const entry = ctx.requestLog.start({
      at: ctx.now(),
      method: req.method,
      path: req.originalUrl.split("?")[0] ?? req.originalUrl,
      query: { ...(req.query as Record<string, unknown>) },
      key: presented ? (ctx.keys.get(presented)?.label ?? keyLabel(presented)) : null,
    });
    res.locals.entry = entry;
    let finished = false;
    res.on("finish", () => {
      finished = true;
      entry.status = res.statusCode;
      entry.durationMs = Math.round(performance.now() - t0);
    });
    res.on("close", () => {
      if (finished) return;
      entry.status = null; // socket destroyed (fault or client gave up)
      entry.durationMs = Math.round(performance.now() - t0);
    });
    next();
  };

  // Read any body as bytes; it is parsed here (not by express.json) so that auth
  // answers before a malformed body does.
  const rawBody = express.raw({ type: () => true, limit: "10mb" });

  const parseBody: RequestHandler = (req, res, next) => {
    const buf: unknown = req.body;
    req.body = undefined;
    if (Buffer.isBuffer(buf) && buf.toString("utf8").trim().length > 0) {
      try {
        req.body = JSON.parse(buf.toString("utf8")) as unknown;
        if (WRITE_METHODS.has(req.method)) entryOf(res).body = req.body;
      } catch {
        res.locals.badJson = true;
      }
    }
    next();
  };

  const gate: RequestHandler = async (req, res, next) => {
    const entry = entryOf(res);
    const now = entry.at;
    const presented = req.get("X-API-Key");
    if (!presented) return failWith(res, 401, "missing_api_key", "API key is required");
    const rec = ctx.keys.get(presented);
    if (!rec) return failWith(res, 401, "invalid_api_key", "The API key provided is invalid");
    if (rec.status === "expired") return failWith(res, 401, "expired_api_key", "API key has expired");
    if (rec.status === "revoked") return failWith(res, 401, "revoked_api_key", "API key was revoked");

    const setRateHeaders = () => {
      const h = ctx.limiter.headers(rec.label, now);
      res.set({ "X-RateLimit-Limit": String(h.limit), "X-RateLimit-Remaining": String(h.remaining), "X-RateLimit-Reset": String(h.reset) });
    };
    const tooMany = (retryAfter: number, raw?: { retryAfter?: string; rateLimitReset?: string }) => {
      setRateHeaders();
      res.set("Retry-After", raw?.retryAfter ?? String(retryAfter));
      if (raw?.rateLimitReset !== undefined) res.set("X-RateLimit-Reset", raw.rateLimitReset);
      failWith(res, 429, "rate_limit_exceeded", `Rate limit exceeded. Try again in ${retryAfter} seconds.`);
    };

    const admission = ctx.limiter.admit(rec.label, now, entry.path);
    if (!admission.ok) return tooMany(admission.retryAfter);

    const scope = requiredScope(req.method, req.path);
    const scopeOk = scope === null || hasScope(rec.scopes, scope);
    const fault = scopeOk ? ctx.faults.pick(req.method, entry.path) : null;
    if (fault?.kind === "429") {
      // An injected 429 is answered 429, so it does not count against the windows.
      entry.fault = "429";
      ctx.limiter.injected429(rec.label, now, fault.retryAfterSeconds);
      return tooMany(fault.retryAfterSeconds, fault.options);
    }
    ctx.limiter.count(rec.label, now);
    setRateHeaders();
    if (!scopeOk) return failWith(res, 403, "insufficient_scope", `This API key does not have the required scope: ${scope}`);

    let extraDelay = 0;
    if (fault) {
      entry.fault = fault.kind;
      switch (fault.kind) {
        case "5xx": {
          const f = FIVE_XX[fault.status] ?? FIVE_XX[500]!;
          return failWith(res, fault.status, f.code, f.message);
        }
        case "reset":
          req.socket.destroy();
          return;
        case "hang":
          hold(ctx, res, fault.hangMs);
          return;
        case "reset-after":
          res.locals.resetAfter = true;
          break;
        case "latency":
          extraDelay = fault.latencyMs;
          break;
        case "redirect":
          res.set("Location", fault.options.location ?? "https://elsewhere.invalid/");
          res.status(fault.options.redirectStatus ?? 302).end();
          return;
        case "huge":
          streamHuge(res, fault.options.bodyBytes ?? 64 * 1_048_576, fault.options.contentLength === true);
          return;
      }
    }
    const delay = ctx.latencyMs + extraDelay;
    if (delay > 0) {
      await sleep(ctx, delay);
      if (ctx.closed || res.destroyed || res.writableEnded) return;
    }
    if (res.locals.badJson === true) return fail(res, fieldError("body", "Invalid JSON body"));
    next();
  };

  return [logStart, rawBody, parseBody, gate];
}

/** Unknown routes under /api/v1 (after auth). */
export const apiNotFound: RequestHandler = (_req, res) => failWith(res, 404, "not_found", "Route not found");

export const apiErrorHandler: ErrorRequestHandler = (err: unknown, _req, res, _next) => {
  if (err instanceof ApiError) return fail(res, err);
  const type = (err as { type?: string } | null)?.type;
  if (type === "entity.too.large") return failWith(res, 413, "payload_too_large", "Request body too large");
  process.stderr.write(`[sandbox] internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  failWith(res, 500, "internal_error", "Internal server error");
};

/**
 * A 200 whose body is `bytes` long, `{"success":true,"data":"xxxx…"}`, written in chunks as
 * the client reads them (never held in memory); it stops when the client goes away.
 */
function streamHuge(res: Response, bytes: number, withLength: boolean): void {
  const head = Buffer.from('{"success":true,"data":"');
  const tail = Buffer.from('"}');
  const chunk = Buffer.alloc(64 * 1024, 0x78);
  let left = Math.max(0, bytes - head.length - tail.length);
  res.status(200).type("application/json");
  if (withLength) res.set("Content-Length", String(head.length + left + tail.length));
  res.write(head);
  const pump = () => {
    while (left > 0 && !res.destroyed) {
      const piece = left >= chunk.length ? chunk : chunk.subarray(0, left);
      left -= piece.length;
      if (!res.write(piece)) return void res.once("drain", pump);
    }
    if (!res.destroyed) res.end(tail);
  };
  pump();
}

/** Holds the request unanswered, then drops the connection (a server that stopped responding). */
function hold(ctx: SandboxContext, res: Response, ms: number): void {
  const timer = setTimeout(() => {
    ctx.timers.delete(timer);
    res.socket?.destroy();
  }, ms);
  ctx.timers.add(timer);
  res.on("close", () => {
    clearTimeout(timer);
    ctx.timers.delete(timer);
  });
}

function sleep(ctx: SandboxContext, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      ctx.timers.delete(timer);
      resolve();
    }, ms);
    ctx.timers.add(timer);
  });
}
