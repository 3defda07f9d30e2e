// Control HTTP API under /__sandbox (no auth): lets the demo and other processes
// inspect and drive a sandbox. Answers use the same envelope as the API.
import express, { Router, type ErrorRequestHandler } from "express";
import type { SandboxContext } from "./context";
import type { SandboxControls } from "./controls";
import { renderDashboard } from "./dashboard";
import { ApiError, errorBody } from "./errors";
import { FAULT_KINDS } from "./faults";
import { findOrder } from "./orders";
import { param } from "./routes/params";
import { isoSeconds } from "./time";
import type { AdvanceState, FailNextOptions, FaultConfig, FaultKind, KeyStatus, StockRef } from "./types";
import { isPlainObject } from "./validate";
import { publicWebhook } from "./webhooks";

function bad(message: string): ApiError {
  return new ApiError(400, "validation_error", message);
}

function regex(v: unknown, field: string): RegExp | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw bad(`${field} must be a regular expression string`);
  try {
    return new RegExp(v);
  } catch {
    throw bad(`${field} is not a valid regular expression`);
  }
}

function objectBody(body: unknown): Record<string, unknown> {
  if (!isPlainObject(body)) throw bad("Body must be a JSON object");
  return body;
}

/** Runs a control that throws plain Errors for bad input, answering 400. */
function attempt<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw bad(err instanceof Error ? err.message : String(err));
  }
}

export function controlRoutes(ctx: SandboxContext, controls: SandboxControls): Router {
  const r = Router();
  r.use(express.json({ type: () => true, limit: "10mb", strict: false }));
  const ok = (res: express.Response, data: unknown) => res.json({ success: true, data });

  r.get("/", (_req, res) => {
    res.type("html").send(renderDashboard(controls.orders(), isoSeconds(ctx.now())));
  });

  r.get("/state", (_req, res) => {
    ok(res, {
      orders: controls.orders(),
      products: controls.products(),
      stock: controls.stock(),
      movements: controls.movements(),
      webhooks: ctx.state.webhooks.map(publicWebhook),
      keys: ctx.keys.list(),
      limits: ctx.limiter.getLimits(),
      budgetReport: controls.budgetReport(),
    });
  });

  r.get("/requests", (req, res) => {
    const since = Number(req.query.since ?? 0);
    ok(res, { requests: ctx.requestLog.since(Number.isFinite(since) ? since : 0) });
  });

  r.get("/deliveries", (_req, res) => {
    ok(res, { deliveries: controls.deliveries() });
  });

  r.post("/faults", (req, res) => {
    const body: unknown = req.body;
    if (body === null || body === undefined || (isPlainObject(body) && Object.keys(body).length === 0)) {
      controls.setFaults(null);
      return ok(res, { faults: null });
    }
    const b = objectBody(body);
    const config: FaultConfig = {
      rate: b.rate as number,
      kinds: b.kinds as FaultKind[],
      ...(typeof b.hangMs === "number" ? { hangMs: b.hangMs } : {}),
      ...(typeof b.latencyMs === "number" ? { latencyMs: b.latencyMs } : {}),
      ...(typeof b.retryAfterSeconds === "number" ? { retryAfterSeconds: b.retryAfterSeconds } : {}),
    };
    const path = regex(b.path, "path");
    if (path) config.path = path;
    attempt(() => controls.setFaults(config));
    ok(res, { faults: { ...config, path: path?.source ?? null } });
  });

  r.post("/fail-next", (req, res) => {
    const b = objectBody(req.body);
    const opts: FailNextOptions = {};
    const path = regex(b.path, "path");
    if (path) opts.path = path;
    if (typeof b.method === "string") opts.method = b.method;
    for (const k of ["retryAfterSeconds", "hangMs", "latencyMs", "redirectStatus", "bodyBytes"] as const)
      if (typeof b[k] === "number") opts[k] = b[k];
    for (const k of ["retryAfter", "rateLimitReset", "location"] as const) if (typeof b[k] === "string") opts[k] = b[k];
    if (typeof b.contentLength === "boolean") opts.contentLength = b.contentLength;
    if (!FAULT_KINDS.includes(b.kind as FaultKind)) throw bad(`kind must be one of ${FAULT_KINDS.join(", ")}`);
    const n = b.n === undefined ? 1 : (b.n as number);
    attempt(() => controls.failNext(n, b.kind as FaultKind, opts));
    ok(res, { queued: n, kind: b.kind });
  });

  r.post("/latency", (req, res) => {
    const b = objectBody(req.body);
    attempt(() => controls.setLatency(b.ms as number));
    ok(res, { latencyMs: ctx.latencyMs });
  });

  r.post("/keys", (req, res) => {
    const b = objectBody(req.body);
    if (typeof b.key !== "string" || !Array.isArray(b.scopes)) throw bad("key (string) and scopes (array) are required");
    const key = b.key;
    attempt(() => controls.addKey({ key, scopes: b.scopes as string[], ...(b.status ? { status: b.status as KeyStatus } : {}) }));
    const rec = ctx.keys.get(key)!;
    // Never echo the key itself.
    ok(res, { key: rec.label, scopes: rec.scopes, status: rec.status });
  });

  r.post("/limits", (req, res) => {
    const b = objectBody(req.body);
    attempt(() => controls.setLimits({ perMinute: b.perMinute as number, perHour: b.perHour as number, perDay: b.perDay as number }));
    ok(res, { limits: ctx.limiter.getLimits() });
  });

  r.post("/orders/:ref/advance", (req, res) => {
    const b = objectBody(req.body);
    const ref = param(req, "ref");
    if (!findOrder(ctx, ref)) throw new ApiError(404, "not_found", "Order not found");
    const order = attempt(() =>
      controls.advanceOrder(ref, b.state as AdvanceState, {
        ...(typeof b.trackingNumber === "string" ? { trackingNumber: b.trackingNumber } : {}),
        ...(typeof b.carrier === "string" ? { carrier: b.carrier } : {}),
        ...(typeof b.reason === "string" ? { reason: b.reason } : {}),
      }),
    );
    ok(res, { order });
  });

  r.post("/stock", (req, res) => {
    const b = objectBody(req.body);
    const ref: StockRef = {};
    if (typeof b.sku === "string") ref.sku = b.sku;
    if (typeof b.barcode === "string") ref.barcode = b.barcode;
    if (typeof b.product_id === "number") ref.productId = b.product_id;
    if (typeof b.location_id !== "string" || typeof b.quantity !== "number")
      throw bad("location_id (string) and quantity (number) are required");
    const locationId = b.location_id;
    const quantity = b.quantity;
    attempt(() => controls.setStock(ref, locationId, quantity, typeof b.reason === "string" ? b.reason : undefined));
    ok(res, { stock: controls.stock().filter((s) => s.location_id === locationId) });
  });

  r.post("/reset", (_req, res) => {
    controls.reset();
    ok(res, { reset: true });
  });

  r.use((_req, res) => {
    res.status(404).json(errorBody("not_found", "Route not found"));
  });
  const onError: ErrorRequestHandler = (err: unknown, _req, res, _next) => {
    if (err instanceof ApiError) return void res.status(err.status).json(errorBody(err.code, err.message, err.details));
    const status = (err as { status?: number } | null)?.status;
    if (typeof status === "number" && status >= 400 && status < 500)
      return void res.status(status).json(errorBody("validation_error", "Invalid JSON body"));
    res.status(500).json(errorBody("internal_error", err instanceof Error ? err.message : String(err)));
  };
  r.use(onError);
  return r;
}
