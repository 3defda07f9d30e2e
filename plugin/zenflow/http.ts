// One function that performs a ZenFlow request: X-API-Key auth, a timeout, the
// envelope check and the mapping of every failure to a typed, classified error.
// Nothing here knows about budgets or retries; the transport above it does.
import type { z } from "zod";
import {
  AbortedError,
  AuthError,
  ConflictError,
  type FieldProblem,
  InvalidResponseError,
  NetworkError,
  NotFoundError,
  RateLimitError,
  RejectedError,
  ServerError,
  TimeoutError,
  UnexpectedStatusError,
  type SyncError,
} from "../core/errors";
import type { Clock } from "../core/clock";
import type { RateLimitInfo } from "../budget/windows";
import { errorEnvelopeSchema } from "./schemas";

export type QueryValue = string | number | boolean | undefined | (string | number)[];

export interface ZenflowRequest<T> {
  /** Stable label for logs and metrics, e.g. "POST /orders". */
  endpoint: string;
  method: "GET" | "POST" | "PUT" | "DELETE";
  path: string;
  query?: Record<string, QueryValue>;
  body?: unknown;
  /** Validates the envelope's `data`. */
  schema: z.ZodType<T>;
}

export interface ZenflowResponse<T> {
  status: number;
  data: T;
  rateLimit: RateLimitInfo | null;
  durationMs: number;
}

export interface ResponseInfo {
  endpoint: string;
  status: number | null;
  durationMs: number;
  rateLimit: RateLimitInfo | null;
  error?: SyncError;
}

export interface HttpOptions {
  baseUrl: string;
  apiKey: string;
  timeoutMs: number;
  clock: Clock;
  /** Aborted when the plugin deactivates. */
  signal?: AbortSignal;
  onResponse?: (info: ResponseInfo) => void;
}

export type HttpSend = <T>(req: ZenflowRequest<T>) => Promise<ZenflowResponse<T>>;

export function buildUrl(baseUrl: string, path: string, query?: Record<string, QueryValue>): string {
  const url = new URL(baseUrl.replace(/\/+$/, "") + path);
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v === undefined) continue;
    for (const item of Array.isArray(v) ? v : [v]) url.searchParams.append(k, String(item));
  }
  return url.toString();
}

export function parseRateLimit(headers: Headers): RateLimitInfo | null {
  const limit = Number(headers.get("x-ratelimit-limit"));
  const remaining = Number(headers.get("x-ratelimit-remaining"));
  const reset = Number(headers.get("x-ratelimit-reset"));
  if (!headers.has("x-ratelimit-remaining") || !Number.isFinite(remaining) || !Number.isFinite(limit)) return null;
  // The docs say "Unix timestamp (seconds)"; tolerate milliseconds too.
  const resetAt = Number.isFinite(reset) && reset > 0 ? (reset > 1e12 ? reset : reset * 1000) : 0;
  return { limit, remaining, resetAt };
}

/** Retry-After is seconds or an HTTP date; when absent, fall back to the reset header, then 30 s. */
export function retryAfterMs(headers: Headers, now: number, rate: RateLimitInfo | null): number {
  const raw = headers.get("retry-after");
  if (raw) {
    const secs = Number(raw);
    if (Number.isFinite(secs) && secs >= 0) return Math.ceil(secs * 1000);
    const date = Date.parse(raw);
    if (Number.isFinite(date)) return Math.max(0, date - now);
  }
  if (rate && rate.resetAt > now) return rate.resetAt - now;
  return 30_000;
}

function normalizeDetails(details: unknown): FieldProblem[] {
  // The docs declare `details` an object but show an array of {field, message}.
  if (Array.isArray(details)) {
    return details.map((d) => {
      const o = (d ?? {}) as Record<string, unknown>;
      return { field: String(o.field ?? ""), message: String(o.message ?? o.error ?? "") };
    });
  }
  if (details && typeof details === "object") {
    return Object.entries(details as Record<string, unknown>).map(([field, message]) => ({
      field,
      message: typeof message === "string" ? message : JSON.stringify(message),
    }));
  }
  return [];
}

function networkCause(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.code ?? cause?.message ?? (err as Error)?.message ?? "unknown error";
}

export function classifyStatus(
  endpoint: string,
  status: number,
  body: unknown,
  headers: Headers,
  now: number,
  rate: RateLimitInfo | null,
): SyncError {
  const parsed = errorEnvelopeSchema.safeParse(body);
  const zCode = parsed.success ? parsed.data.error.code : "";
  const zMessage = parsed.success ? (parsed.data.error.message ?? "") : "";
  const details = parsed.success ? normalizeDetails(parsed.data.error.details) : [];
  const said = zCode ? ` (${zCode}${zMessage ? `: ${zMessage}` : ""})` : "";

  if (status === 429 || zCode === "rate_limit_exceeded") {
    const wait = retryAfterMs(headers, now, rate);
    return new RateLimitError(`ZenFlow rate limit reached on ${endpoint}; retry in ${Math.ceil(wait / 1000)} s`, wait);
  }
  if (status === 401 || status === 403) {
    const scope = zCode === "insufficient_scope" ? /scope:\s*([\w:]+)/.exec(zMessage)?.[1] : undefined;
    return new AuthError(`ZenFlow refused the API key on ${endpoint}: HTTP ${status}${said}`, status, zCode || `http_${status}`, scope);
  }
  if (status === 404) {
    return new NotFoundError(`ZenFlow: not found on ${endpoint}${said}`, status, zCode || "not_found", zMessage, details);
  }
  if (status === 409) {
    return new ConflictError(`ZenFlow: conflict on ${endpoint}${said}`, status, zCode || "already_exists", zMessage, details);
  }
  if (status === 408) return new TimeoutError(`ZenFlow timed out on ${endpoint} (HTTP 408)`);
  if (status >= 500) return new ServerError(`ZenFlow failed on ${endpoint}: HTTP ${status}${said}`, status);
  if (status === 400 || status === 422 || (status >= 400 && status < 500)) {
    // validation_error arrives as 400 on endpoint pages and as 422 in the errors guide.
    return new RejectedError(`ZenFlow rejected ${endpoint}: HTTP ${status}${said}`, status, zCode || `http_${status}`, zMessage, details);
  }
  return new UnexpectedStatusError(`ZenFlow answered ${endpoint} with unexpected HTTP ${status}`, status);
}

export function createHttp(opts: HttpOptions): HttpSend {
  return async function send<T>(req: ZenflowRequest<T>): Promise<ZenflowResponse<T>> {
    const started = opts.clock.now();
    const report = (status: number | null, rateLimit: RateLimitInfo | null, error?: SyncError) =>
      opts.onResponse?.({ endpoint: req.endpoint, status, durationMs: opts.clock.now() - started, rateLimit, error });

    if (opts.signal?.aborted) throw new AbortedError(`${req.endpoint} not sent: the plugin is stopping`);
    const timeout = AbortSignal.timeout(opts.timeoutMs);
    const signal = opts.signal ? AbortSignal.any([timeout, opts.signal]) : timeout;
    let res: Response;
    let text: string;
    try {
      res = await fetch(buildUrl(opts.baseUrl, req.path, req.query), {
        method: req.method,
        headers: {
          "X-API-Key": opts.apiKey,
          Accept: "application/json",
          ...(req.body !== undefined ? { "Content-Type": "application/json" } : {}),
        },
        body: req.body !== undefined ? JSON.stringify(req.body) : undefined,
        signal,
      });
      text = await res.text();
    } catch (err) {
      let error: SyncError;
      if (timeout.aborted) error = new TimeoutError(`ZenFlow did not answer ${req.endpoint} within ${opts.timeoutMs} ms`);
      else if (opts.signal?.aborted) error = new AbortedError(`${req.endpoint} interrupted: the plugin is stopping`);
      else error = new NetworkError(`Could not reach ZenFlow for ${req.endpoint}: ${networkCause(err)}`, { cause: err });
      report(null, null, error);
      throw error;
    }

    const now = opts.clock.now();
    const rateLimit = parseRateLimit(res.headers);
    let body: unknown = undefined;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }

    if (res.status < 200 || res.status >= 300) {
      const error = classifyStatus(req.endpoint, res.status, body, res.headers, now, rateLimit);
      report(res.status, rateLimit, error);
      throw error;
    }
    const envelope = body as { success?: unknown; data?: unknown; error?: unknown } | undefined;
    if (!envelope || typeof envelope !== "object") {
      const error = new InvalidResponseError(req.endpoint, [text ? "body is not JSON" : "empty body"]);
      report(res.status, rateLimit, error);
      throw error;
    }
    if (envelope.success === false) {
      // A 2xx carrying an error envelope: treat it as the error it describes.
      const error = classifyStatus(req.endpoint, 400, body, res.headers, now, rateLimit);
      report(res.status, rateLimit, error);
      throw error;
    }
    const parsed = req.schema.safeParse(envelope.data);
    if (!parsed.success) {
      // Name the paths, never echo the body (it may hold customer data).
      const issues = parsed.error.issues.map((i) => `data.${i.path.join(".") || "(root)"}: ${i.message}`);
      const error = new InvalidResponseError(req.endpoint, issues);
      report(res.status, rateLimit, error);
      throw error;
    }
    report(res.status, rateLimit);
    return { status: res.status, data: parsed.data, rateLimit, durationMs: now - started };
  };
}
