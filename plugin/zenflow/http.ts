// One function that performs a ZenFlow request: X-API-Key auth, a timeout, the
// envelope check and the mapping of every failure to a typed, classified error.
// Nothing here knows about budgets or retries; the transport above it does.
//
// What ZenFlow (or anything between us and it) says is bounded here: redirects are never
// followed, an answer is read up to MAX_RESPONSE_BYTES (counted while streaming, after
// decompression), and every delay a server asks for (Retry-After, X-RateLimit-Reset) is
// parsed strictly and capped at `maxDelayMs`; a value that is not one of the documented
// forms counts as absent.
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
  RedirectError,
  RejectedError,
  ResponseTooLargeError,
  ServerError,
  TimeoutError,
  UnexpectedStatusError,
  type SyncError,
} from "../core/errors";
import type { Clock } from "../core/clock";
import type { RequestSubject } from "../core/request-log";
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
  /** The orders this request carries: the transport records its outcome for each (the order timeline). */
  about?: readonly RequestSubject[];
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
  /** The longest delay a server may impose (Retry-After, reset); default 1 hour. */
  maxDelayMs?: number;
  /** The most bytes of one answer that are read; default MAX_RESPONSE_BYTES. */
  maxResponseBytes?: number;
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

/** The largest answer read from ZenFlow (the biggest documented page, 100 rows, is far smaller). */
export const MAX_RESPONSE_BYTES = 4 * 1_048_576;
/** The default cap on any server-supplied delay (the setting "Longest pause ZenFlow may ask for"). */
export const DEFAULT_MAX_DELAY_MS = 3_600_000;

const INTEGER = /^\s*\d{1,16}\s*$/;
/** delay-seconds; fractions are tolerated (rounded up to the millisecond). */
const SECONDS = /^\s*\d{1,16}(\.\d{1,9})?\s*$/;
// HTTP dates (RFC 9110 §5.6.7): IMF-fixdate, and the obsolete RFC 850 and asctime forms.
const HTTP_DATE =
  /^\s*(?:[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT|[A-Za-z]{6,9}, \d{2}-[A-Za-z]{3}-\d{2} \d{2}:\d{2}:\d{2} GMT|[A-Za-z]{3} [A-Za-z]{3} [ \d]\d \d{2}:\d{2}:\d{2} \d{4})\s*$/;

/**
 * X-RateLimit-Reset as an instant (epoch ms), or null when it is not a plausible one. The docs
 * say Unix seconds; Unix milliseconds and seconds-from-now are accepted too, whichever lands
 * within a day of now. The result is never more than `maxDelayMs` ahead.
 */
export function parseReset(raw: string | null, now: number, maxDelayMs = DEFAULT_MAX_DELAY_MS): number | null {
  if (raw === null || !INTEGER.test(raw)) return null;
  const n = Number(raw);
  const near = (t: number) => t >= now - 86_400_000 && t <= now + 86_400_000;
  const at = near(n * 1000) ? n * 1000 : near(n) ? n : n <= 86_400 ? now + n * 1000 : null;
  return at === null ? null : Math.min(at, now + maxDelayMs);
}

export function parseRateLimit(headers: Headers, now = Date.now(), maxDelayMs = DEFAULT_MAX_DELAY_MS): RateLimitInfo | null {
  const count = (name: string) => {
    const raw = headers.get(name);
    return raw !== null && INTEGER.test(raw) ? Number(raw) : null;
  };
  const limit = count("x-ratelimit-limit");
  const remaining = count("x-ratelimit-remaining");
  if (limit === null || remaining === null || remaining > limit) return null;
  return { limit, remaining, resetAt: parseReset(headers.get("x-ratelimit-reset"), now, maxDelayMs) ?? 0 };
}

/**
 * How long a 429 asks us to wait, capped at `maxDelayMs`. Retry-After is delay-seconds or an
 * HTTP date; anything else (negative, "1e20", "soon") counts as absent. Without one, the reset
 * header decides, then 30 s.
 */
export function retryAfterMs(headers: Headers, now: number, rate: RateLimitInfo | null, maxDelayMs = DEFAULT_MAX_DELAY_MS): number {
  const raw = headers.get("retry-after");
  let ms: number | null = null;
  if (raw !== null && SECONDS.test(raw)) ms = Math.ceil(Number(raw) * 1000);
  else if (raw !== null && HTTP_DATE.test(raw)) {
    // asctime carries no zone but means GMT, like the other two forms.
    const date = Date.parse(/GMT\s*$/.test(raw) ? raw : `${raw.trim()} GMT`);
    if (Number.isFinite(date)) ms = Math.max(0, date - now);
  }
  if (ms === null && rate && rate.resetAt > now) ms = rate.resetAt - now;
  return Math.min(ms ?? 30_000, maxDelayMs);
}

/** The answer's body as text, read while counting: more than `limit` bytes is an error, and the rest is never read. */
async function readCapped(res: Response, endpoint: string, limit: number): Promise<string> {
  const declared = Number(res.headers.get("content-length"));
  // Content-Length counts encoded bytes; the count below is after decompression. Both are capped.
  if (Number.isFinite(declared) && declared > limit) {
    await res.body?.cancel().catch(() => undefined);
    throw new ResponseTooLargeError(endpoint, limit);
  }
  if (!res.body) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => undefined);
      throw new ResponseTooLargeError(endpoint, limit);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** The origin a redirect points at (never its path or query, which may carry anything). */
function redirectOrigin(location: string | null, base: string): string | null {
  if (!location) return null;
  try {
    return new URL(location, base).origin;
  } catch {
    return null;
  }
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

/** The HTTP status ZenFlow documents for an error code (zenflow-api.md §3.4), for error envelopes that came with a 2xx. */
const STATUS_OF_CODE: Record<string, number> = {
  missing_api_key: 401,
  invalid_api_key: 401,
  expired_api_key: 401,
  revoked_api_key: 401,
  insufficient_scope: 403,
  ip_not_allowed: 403,
  not_found: 404,
  already_exists: 409,
  rate_limit_exceeded: 429,
};

function statusOfCode(body: unknown): number {
  const parsed = errorEnvelopeSchema.safeParse(body);
  return (parsed.success && STATUS_OF_CODE[parsed.data.error.code]) || 400;
}

export function classifyStatus(
  endpoint: string,
  status: number,
  body: unknown,
  headers: Headers,
  now: number,
  rate: RateLimitInfo | null,
  maxDelayMs = DEFAULT_MAX_DELAY_MS,
): SyncError {
  const parsed = errorEnvelopeSchema.safeParse(body);
  const zCode = parsed.success ? parsed.data.error.code : "";
  const zMessage = parsed.success ? (parsed.data.error.message ?? "") : "";
  const details = parsed.success ? normalizeDetails(parsed.data.error.details) : [];
  const said = zCode ? ` (${zCode}${zMessage ? `: ${zMessage}` : ""})` : "";

  if (status === 429 || zCode === "rate_limit_exceeded") {
    const wait = retryAfterMs(headers, now, rate, maxDelayMs);
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
    const maxDelayMs = opts.maxDelayMs ?? DEFAULT_MAX_DELAY_MS;
    const url = buildUrl(opts.baseUrl, req.path, req.query);
    let res: Response;
    let text: string;
    try {
      res = await fetch(url, {
        method: req.method,
        headers: {
          "X-API-Key": opts.apiKey,
          Accept: "application/json",
          ...(req.body !== undefined ? { "Content-Type": "application/json" } : {}),
        },
        body: req.body !== undefined ? JSON.stringify(req.body) : undefined,
        // Never follow: the key (and, on 307/308, the order body) would go to wherever it points.
        redirect: "manual",
        signal,
      });
      if (res.status >= 300 && res.status < 400) {
        await res.body?.cancel().catch(() => undefined);
        throw new RedirectError(req.endpoint, res.status, redirectOrigin(res.headers.get("location"), url));
      }
      text = await readCapped(res, req.endpoint, opts.maxResponseBytes ?? MAX_RESPONSE_BYTES);
    } catch (err) {
      let error: SyncError;
      if (err instanceof RedirectError || err instanceof ResponseTooLargeError) error = err;
      else if (timeout.aborted) error = new TimeoutError(`ZenFlow did not answer ${req.endpoint} within ${opts.timeoutMs} ms`);
      else if (opts.signal?.aborted) error = new AbortedError(`${req.endpoint} interrupted: the plugin is stopping`);
      else error = new NetworkError(`Could not reach ZenFlow for ${req.endpoint}: ${networkCause(err)}`, { cause: err });
      report(null, null, error);
      throw error;
    }

    const now = opts.clock.now();
    const rateLimit = parseRateLimit(res.headers, now, maxDelayMs);
    let body: unknown = undefined;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }

    if (res.status < 200 || res.status >= 300) {
      const error = classifyStatus(req.endpoint, res.status, body, res.headers, now, rateLimit, maxDelayMs);
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
      // A 2xx carrying an error envelope: treat it as the error it describes, by its code
      // (a rejected key must pause sending, a missing order must read as not found).
      const error = classifyStatus(req.endpoint, statusOfCode(body), body, res.headers, now, rateLimit, maxDelayMs);
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
