// plugin/zenflow/http.ts, case by case: every documented status and error code to its error
// class and retry policy, the Retry-After and X-RateLimit-* forms, `details` as an array and
// as an object, and the answers the sandbox never gives (a 2xx carrying an error envelope, a
// 2xx that is not JSON, a body that fails the schema, a Retry-After date, a reset header in
// milliseconds). The pure parts are called directly; createHttp runs against a small node:http
// server started here on port 0 (real HTTP, nothing mocked).
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { z } from "zod";
import type { RateLimitInfo } from "../../plugin/budget/windows";
import type { Clock } from "../../plugin/core/clock";
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
  type SyncError,
  TimeoutError,
  UnexpectedStatusError,
} from "../../plugin/core/errors";
import { buildUrl, classifyStatus, createHttp, parseRateLimit, type ResponseInfo, retryAfterMs } from "../../plugin/zenflow/http";
import { createOrdersResultSchema, orderStatusSchema } from "../../plugin/zenflow/schemas";
import "../support/leak-check";

/** A whole second, so HTTP dates (second precision) land exactly on it. */
const NOW = Date.UTC(2026, 0, 15, 10, 30, 0);
const API_KEY = "zf_live_test_key_never_in_messages";
const fixedClock: Clock = { now: () => NOW, sleep: async () => undefined };

const errorBody = (code: string, message?: string, details?: unknown) => ({
  success: false,
  error: { code, ...(message === undefined ? {} : { message }), ...(details === undefined ? {} : { details }) },
});

type ErrorClass = abstract new (...args: never[]) => SyncError;

/** What a classified error must be; only the fields given are checked. */
interface Expected {
  cls: ErrorClass;
  code: string;
  retryable: boolean;
  countsAsAttempt: boolean;
  status?: number;
  zenflowCode?: string;
  zenflowMessage?: string;
  jobCode?: string;
  jobMessage?: string | RegExp;
  message?: string | RegExp;
  details?: FieldProblem[];
  scope?: string;
  blocksEverything?: boolean;
  retryAfterMs?: number;
  issues?: (string | RegExp)[];
}

function assertError(err: unknown, e: Expected, label: string): void {
  assert.ok(err instanceof e.cls, `${label}: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)} is not a ${e.cls.name}`);
  const x = err as SyncError & Record<string, unknown>;
  assert.equal(x.constructor, e.cls, `${label}: exactly ${e.cls.name}, not a subclass (${x.constructor.name})`);
  assert.equal(x.code, e.code, `${label}: code`);
  assert.equal(x.retryable, e.retryable, `${label}: retryable`);
  assert.equal(x.countsAsAttempt, e.countsAsAttempt, `${label}: countsAsAttempt`);
  for (const k of ["status", "zenflowCode", "zenflowMessage", "scope", "blocksEverything", "retryAfterMs", "jobCode"] as const) {
    if (e[k] !== undefined) assert.equal(x[k], e[k], `${label}: ${k}`);
  }
  if (e.details) assert.deepEqual(x.details, e.details, `${label}: details`);
  if (typeof e.message === "string") assert.equal(x.message, e.message, `${label}: message`);
  else if (e.message) assert.match(x.message, e.message, `${label}: message`);
  if (typeof e.jobMessage === "string") assert.equal(x.jobMessage, e.jobMessage, `${label}: jobMessage`);
  else if (e.jobMessage) assert.match(x.jobMessage, e.jobMessage, `${label}: jobMessage`);
  if (e.issues) {
    const issues = (x as unknown as InvalidResponseError).issues;
    assert.equal(issues.length, e.issues.length, `${label}: issues ${JSON.stringify(issues)}`);
    e.issues.forEach((want, i) =>
      typeof want === "string"
        ? assert.equal(issues[i], want, `${label}: issue ${i}`)
        : assert.match(issues[i]!, want, `${label}: issue ${i}`),
    );
  }
  assert.ok(!x.message.includes(API_KEY) && !x.jobMessage.includes(API_KEY), `${label}: the API key is never in a message`);
}

const rejected = (status: number, zenflowCode: string, more: Partial<Expected> = {}): Expected => ({
  cls: RejectedError,
  code: "rejected",
  retryable: false,
  countsAsAttempt: true,
  status,
  zenflowCode,
  ...more,
});
const auth = (status: number, zenflowCode: string, more: Partial<Expected> = {}): Expected => ({
  cls: AuthError,
  code: "auth",
  retryable: false,
  countsAsAttempt: false,
  status,
  zenflowCode,
  jobCode: zenflowCode,
  blocksEverything: true,
  ...more,
});
const server = (status: number, more: Partial<Expected> = {}): Expected => ({
  cls: ServerError,
  code: "server_error",
  retryable: true,
  countsAsAttempt: true,
  status,
  ...more,
});
const rateLimited = (wait: number, more: Partial<Expected> = {}): Expected => ({
  cls: RateLimitError,
  code: "rate_limited",
  retryable: true,
  countsAsAttempt: false,
  retryAfterMs: wait,
  ...more,
});
const notFound = (more: Partial<Expected> = {}): Expected => ({
  cls: NotFoundError,
  code: "not_found",
  retryable: false,
  countsAsAttempt: true,
  zenflowCode: "not_found",
  ...more,
});
const conflict = (more: Partial<Expected> = {}): Expected => ({
  cls: ConflictError,
  code: "conflict",
  retryable: false,
  countsAsAttempt: true,
  zenflowCode: "already_exists",
  ...more,
});
const invalidBody = (more: Partial<Expected>): Expected => ({
  cls: InvalidResponseError,
  code: "invalid_response",
  retryable: true,
  countsAsAttempt: true,
  ...more,
});
const unexpected = (status: number): Expected => ({
  cls: UnexpectedStatusError,
  code: "unexpected_status",
  retryable: false,
  countsAsAttempt: true,
  status,
  message: `ZenFlow answered POST /orders with unexpected HTTP ${status}`,
});

const VALIDATION_DETAILS = [
  { field: "assembly_date", message: "Must be a valid date in YYYY-MM-DD format" },
  { field: "order_detail", message: "At least one line" },
];

interface StatusCase {
  name: string;
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  rate?: RateLimitInfo | null;
  want: Expected;
}

// zenflow-api.md §3.3 (statuses) and §3.4 (every error code found), plus what is not documented.
const STATUS_CASES: StatusCase[] = [
  {
    name: "400 validation_error with details as an array of {field, message}",
    status: 400,
    body: errorBody("validation_error", "Invalid order data", VALIDATION_DETAILS),
    want: rejected(400, "validation_error", {
      zenflowMessage: "Invalid order data",
      details: VALIDATION_DETAILS,
      message: "ZenFlow rejected POST /orders: HTTP 400 (validation_error: Invalid order data)",
      jobMessage:
        "ZenFlow rejected POST /orders: HTTP 400 (validation_error: Invalid order data) " +
        "(assembly_date: Must be a valid date in YYYY-MM-DD format; order_detail: At least one line)",
    }),
  },
  {
    name: "422 validation_error (the errors guide's status for validation)",
    status: 422,
    body: errorBody("validation_error", "Location ID is required"),
    want: rejected(422, "validation_error", { message: /HTTP 422 \(validation_error: Location ID is required\)$/ }),
  },
  {
    name: "400 validation_error with details as an object {field: message}",
    status: 400,
    body: errorBody("validation_error", "Name and barcode are required", { name: "is required", barcode: { min: 8 } }),
    want: rejected(400, "validation_error", {
      details: [
        { field: "name", message: "is required" },
        { field: "barcode", message: '{"min":8}' },
      ],
    }),
  },
  {
    name: "400 details entries that say `error` instead of `message`, or are null",
    status: 400,
    body: errorBody("validation_error", "Invalid", [{ field: "sku", error: "duplicated" }, null, { message: "no field" }]),
    want: rejected(400, "validation_error", {
      details: [
        { field: "sku", message: "duplicated" },
        { field: "", message: "" },
        { field: "", message: "no field" },
      ],
    }),
  },
  {
    name: "400 invalid_id",
    status: 400,
    body: errorBody("invalid_id", "Order ID must be a valid integer"),
    want: rejected(400, "invalid_id"),
  },
  {
    name: "400 missing_field",
    status: 400,
    body: errorBody("missing_field", "Required field missing"),
    want: rejected(400, "missing_field"),
  },
  {
    name: "400 update_error (export-orders keys on it)",
    status: 400,
    body: errorBody("update_error", "Cannot update order in current state"),
    want: rejected(400, "update_error", { zenflowMessage: "Cannot update order in current state" }),
  },
  {
    name: "400 cancel_error (export-orders keys on it)",
    status: 400,
    body: errorBody("cancel_error", "Cannot cancel order that is already completed"),
    want: rejected(400, "cancel_error"),
  },
  {
    name: "400 without an envelope",
    status: 400,
    body: undefined,
    want: rejected(400, "http_400", { message: "ZenFlow rejected POST /orders: HTTP 400", details: [], zenflowMessage: "" }),
  },
  {
    name: "400 whose body is JSON but not an error envelope",
    status: 400,
    body: { error: "bad request", success: "no" },
    want: rejected(400, "http_400", { details: [] }),
  },
  {
    name: "400 envelope without a message",
    status: 400,
    body: errorBody("validation_error"),
    want: rejected(400, "validation_error", { message: "ZenFlow rejected POST /orders: HTTP 400 (validation_error)" }),
  },
  {
    name: "401 missing_api_key",
    status: 401,
    body: errorBody("missing_api_key", "API key is required"),
    want: auth(401, "missing_api_key"),
  },
  {
    name: "401 invalid_api_key",
    status: 401,
    body: errorBody("invalid_api_key", "The API key provided is invalid or has been revoked"),
    want: auth(401, "invalid_api_key", {
      message:
        "ZenFlow refused the API key on POST /orders: HTTP 401 (invalid_api_key: The API key provided is invalid or has been revoked)",
    }),
  },
  {
    name: "401 expired_api_key",
    status: 401,
    body: errorBody("expired_api_key", "API key has expired"),
    want: auth(401, "expired_api_key"),
  },
  {
    name: "401 revoked_api_key",
    status: 401,
    body: errorBody("revoked_api_key", "API key was revoked"),
    want: auth(401, "revoked_api_key"),
  },
  {
    name: "403 insufficient_scope names the scope and blocks only that kind of work",
    status: 403,
    body: errorBody("insufficient_scope", "This API key does not have the required scope: write:orders"),
    want: auth(403, "insufficient_scope", {
      scope: "write:orders",
      blocksEverything: false,
      jobMessage: "the ZenFlow API key lacks the scope write:orders",
    }),
  },
  {
    name: "403 insufficient_scope whose message names no scope",
    status: 403,
    body: errorBody("insufficient_scope", "Forbidden"),
    want: auth(403, "insufficient_scope", { blocksEverything: false, jobMessage: /HTTP 403 \(insufficient_scope: Forbidden\)/ }),
  },
  { name: "403 ip_not_allowed", status: 403, body: errorBody("ip_not_allowed", "IP not in whitelist"), want: auth(403, "ip_not_allowed") },
  {
    name: "401 without an envelope",
    status: 401,
    want: auth(401, "http_401", { message: "ZenFlow refused the API key on POST /orders: HTTP 401" }),
  },
  { name: "403 without an envelope", status: 403, want: auth(403, "http_403") },
  {
    name: "404 not_found",
    status: 404,
    body: errorBody("not_found", "Order not found"),
    want: notFound({
      status: 404,
      zenflowMessage: "Order not found",
      message: "ZenFlow: not found on POST /orders (not_found: Order not found)",
    }),
  },
  {
    name: "404 without an envelope",
    status: 404,
    want: notFound(),
  },
  {
    name: "409 already_exists",
    status: 409,
    body: errorBody("already_exists", "Product with this barcode already exists"),
    want: conflict({
      status: 409,
      message: "ZenFlow: conflict on POST /orders (already_exists: Product with this barcode already exists)",
    }),
  },
  {
    name: "409 without an envelope",
    status: 409,
    want: conflict(),
  },
  {
    name: "408 request timeout",
    status: 408,
    want: {
      cls: TimeoutError,
      code: "timeout",
      retryable: true,
      countsAsAttempt: true,
      message: "ZenFlow timed out on POST /orders (HTTP 408)",
    },
  },
  {
    name: "429 rate_limit_exceeded with Retry-After: 30",
    status: 429,
    body: errorBody("rate_limit_exceeded", "Rate limit exceeded. Try again in 30 seconds."),
    headers: { "retry-after": "30" },
    want: rateLimited(30_000, { message: "ZenFlow rate limit reached on POST /orders; retry in 30 s" }),
  },
  { name: "429 with neither body nor headers waits 30 s", status: 429, want: rateLimited(30_000) },
  {
    name: "429 without Retry-After waits for the reported reset",
    status: 429,
    rate: { limit: 60, remaining: 0, resetAt: NOW + 12_500 },
    want: rateLimited(12_500, { message: /retry in 13 s$/ }),
  },
  {
    name: "rate_limit_exceeded under another status is still a rate limit",
    status: 400,
    body: errorBody("rate_limit_exceeded", "Rate limit exceeded."),
    headers: { "retry-after": "5" },
    want: rateLimited(5000),
  },
  {
    name: "500 internal_error",
    status: 500,
    body: errorBody("internal_error", "Internal server error"),
    want: server(500, { message: "ZenFlow failed on POST /orders: HTTP 500 (internal_error: Internal server error)" }),
  },
  { name: "502 without an envelope", status: 502, want: server(502, { message: "ZenFlow failed on POST /orders: HTTP 502" }) },
  { name: "503", status: 503, body: errorBody("service_unavailable"), want: server(503) },
  { name: "504", status: 504, want: server(504) },
  { name: "an undocumented 4xx (418) is a refusal", status: 418, want: rejected(418, "http_418") },
  { name: "an undocumented 4xx (451) keeps ZenFlow's code", status: 451, body: errorBody("legal"), want: rejected(451, "legal") },
  { name: "a redirect (302) is unexpected", status: 302, want: unexpected(302) },
  { name: "304 is unexpected", status: 304, want: unexpected(304) },
  { name: "a 1xx is unexpected", status: 103, want: unexpected(103) },
];

describe("classifyStatus: every documented status and code", () => {
  for (const c of STATUS_CASES) {
    it(c.name, () => {
      const err = classifyStatus("POST /orders", c.status, c.body, new Headers(c.headers ?? {}), NOW, c.rate ?? null);
      assertError(err, c.want, c.name);
    });
  }
});

describe("retryAfterMs: Retry-After as seconds or a date, else the reset header, else 30 s", () => {
  const rate = (resetAt: number): RateLimitInfo => ({ limit: 60, remaining: 0, resetAt });
  const cases: { name: string; header?: string; rate?: RateLimitInfo; want: number; todo?: string }[] = [
    { name: "whole seconds", header: "30", want: 30_000 },
    { name: "zero", header: "0", want: 0 },
    { name: "fractional seconds", header: "1.5", want: 1500 },
    { name: "fractions round up to the next millisecond", header: "0.0004", want: 1 },
    { name: "seconds win over the reset header", header: "2", rate: rate(NOW + 50_000), want: 2000 },
    { name: "an HTTP date", header: new Date(NOW + 10_000).toUTCString(), want: 10_000 },
    { name: "an HTTP date wins over the reset header", header: new Date(NOW + 90_000).toUTCString(), rate: rate(NOW + 5000), want: 90_000 },
    { name: "a date already past means no wait", header: new Date(NOW - 60_000).toUTCString(), want: 0 },
    { name: "garbage falls back to the reset header", header: "soon", rate: rate(NOW + 7000), want: 7000 },
    { name: "garbage without a reset header falls back to 30 s", header: "retry later", want: 30_000 },
    { name: "garbage with a reset already past falls back to 30 s", header: "soon", rate: rate(NOW - 1000), want: 30_000 },
    { name: "absent: the reset header", rate: rate(NOW + 25_000), want: 25_000 },
    { name: "absent, reset already past: 30 s", rate: rate(NOW - 1), want: 30_000 },
    { name: "absent, no reset reported (0): 30 s", rate: rate(0), want: 30_000 },
    { name: "absent, no rate headers at all: 30 s", want: 30_000 },
    { name: "empty counts as absent", header: "", rate: rate(NOW + 4000), want: 4000 },
    {
      name: "a negative number is garbage, not a date",
      header: "-5",
      want: 30_000,
    },
    {
      name: "text with a number in it is garbage, not a date",
      header: "retry 12",
      rate: rate(NOW + 7000),
      want: 7000,
    },
  ];
  for (const c of cases) {
    it(c.name, c.todo ? { todo: c.todo } : {}, () => {
      const headers = new Headers(c.header === undefined ? {} : { "retry-after": c.header });
      assert.equal(retryAfterMs(headers, NOW, c.rate ?? null), c.want);
    });
  }
});

describe("parseRateLimit: X-RateLimit-* headers", () => {
  const RESET_S = Math.floor(NOW / 1000) + 30;
  const cases: { name: string; headers: Record<string, string>; want: RateLimitInfo | null; todo?: string }[] = [
    {
      name: "reset as a Unix timestamp in seconds (the docs)",
      headers: { "x-ratelimit-limit": "60", "x-ratelimit-remaining": "45", "x-ratelimit-reset": String(RESET_S) },
      want: { limit: 60, remaining: 45, resetAt: RESET_S * 1000 },
    },
    {
      name: "reset in milliseconds",
      headers: { "x-ratelimit-limit": "60", "x-ratelimit-remaining": "45", "x-ratelimit-reset": String(RESET_S * 1000) },
      want: { limit: 60, remaining: 45, resetAt: RESET_S * 1000 },
    },
    {
      name: "remaining 0",
      headers: { "x-ratelimit-limit": "60", "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(RESET_S) },
      want: { limit: 60, remaining: 0, resetAt: RESET_S * 1000 },
    },
    {
      name: "no reset header: resetAt 0 (unknown)",
      headers: { "x-ratelimit-limit": "60", "x-ratelimit-remaining": "10" },
      want: { limit: 60, remaining: 10, resetAt: 0 },
    },
    {
      name: "a reset that is not a positive number: unknown",
      headers: { "x-ratelimit-limit": "60", "x-ratelimit-remaining": "10", "x-ratelimit-reset": "soon" },
      want: { limit: 60, remaining: 10, resetAt: 0 },
    },
    {
      name: "a negative reset: unknown",
      headers: { "x-ratelimit-limit": "60", "x-ratelimit-remaining": "10", "x-ratelimit-reset": "-1" },
      want: { limit: 60, remaining: 10, resetAt: 0 },
    },
    { name: "no headers at all", headers: {}, want: null },
    { name: "no remaining header", headers: { "x-ratelimit-limit": "60", "x-ratelimit-reset": String(RESET_S) }, want: null },
    { name: "remaining not a number", headers: { "x-ratelimit-limit": "60", "x-ratelimit-remaining": "lots" }, want: null },
    { name: "limit not a number", headers: { "x-ratelimit-limit": "many", "x-ratelimit-remaining": "3" }, want: null },
    {
      name: "no limit header: the limit is unknown, not 0",
      headers: { "x-ratelimit-remaining": "3", "x-ratelimit-reset": String(RESET_S) },
      want: null,
    },
  ];
  for (const c of cases) {
    it(c.name, c.todo ? { todo: c.todo } : {}, () => assert.deepEqual(parseRateLimit(new Headers(c.headers), NOW), c.want));
  }
});

describe("buildUrl", () => {
  const cases: {
    name: string;
    base: string;
    path: string;
    query?: Record<string, string | number | boolean | undefined | (string | number)[]>;
    want: string;
  }[] = [
    { name: "base and path", base: "https://api.zenflow.test/api/v1", path: "/orders", want: "https://api.zenflow.test/api/v1/orders" },
    {
      name: "trailing slashes on the base",
      base: "https://api.zenflow.test/api/v1//",
      path: "/orders",
      want: "https://api.zenflow.test/api/v1/orders",
    },
    {
      name: "query values, undefined skipped",
      base: "http://127.0.0.1:4010/api/v1",
      path: "/orders",
      query: { page: 2, limit: 100, active: true, since: undefined },
      want: "http://127.0.0.1:4010/api/v1/orders?page=2&limit=100&active=true",
    },
    {
      name: "arrays repeat the key; values are encoded",
      base: "http://127.0.0.1:4010/api/v1",
      path: "/stock",
      query: { sku: ["A 1", "B&2"], location_id: "main" },
      want: "http://127.0.0.1:4010/api/v1/stock?sku=A+1&sku=B%262&location_id=main",
    },
  ];
  for (const c of cases) it(c.name, () => assert.equal(buildUrl(c.base, c.path, c.query), c.want));
});

// ---- createHttp over real HTTP -------------------------------------------------------------

interface Answer {
  status: number;
  headers?: Record<string, string>;
  /** A string is sent as is; anything else as JSON; undefined sends no body. */
  body?: unknown;
  /** Never answer (until the client gives up or the server closes). */
  hang?: boolean;
}

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: string;
}

const ok = (data: unknown, status = 200, headers: Record<string, string> = {}): Answer => ({
  status,
  headers,
  body: { success: true, data },
});
const statusSchema = orderStatusSchema;
const anything = z.unknown();

describe("createHttp against a local HTTP server", () => {
  const answers = new Map<string, Answer>();
  const seen: Seen[] = [];
  const srv = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString("utf8")));
    req.on("end", () => {
      const path = (req.url ?? "").split("?")[0]!.replace(/^\/api\/v1/, "");
      seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
      const a = answers.get(path) ?? { status: 599, body: "no such case" };
      if (a.hang) return;
      res.writeHead(a.status, a.headers ?? {});
      res.end(a.body === undefined ? undefined : typeof a.body === "string" ? a.body : JSON.stringify(a.body));
    });
  });
  let base = "";
  const reports: ResponseInfo[] = [];
  let n = 0;

  before(async () => {
    await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(srv.address() as AddressInfo).port}/api/v1`;
  });
  after(async () => {
    srv.closeAllConnections();
    await new Promise<void>((resolve) => srv.close(() => resolve()));
  });

  const send = (opts: { timeoutMs?: number; signal?: AbortSignal } = {}) =>
    createHttp({
      baseUrl: base,
      apiKey: API_KEY,
      timeoutMs: opts.timeoutMs ?? 5000,
      clock: fixedClock,
      signal: opts.signal,
      onResponse: (i) => reports.push(i),
    });

  /** Serves `answer` on a fresh path and sends one request there. */
  async function exchange<T>(answer: Answer, schema: z.ZodType<T> = anything as z.ZodType<T>, method: "GET" | "POST" = "GET") {
    const path = `/case/${++n}`;
    answers.set(path, answer);
    const endpoint = `${method} /case`;
    const before = reports.length;
    try {
      const res = await send()({ endpoint, method, path, schema, ...(method === "POST" ? { body: { x: 1 } } : {}) });
      return { res, err: null, report: reports.slice(before) };
    } catch (err) {
      return { res: null, err, report: reports.slice(before) };
    }
  }

  it("a 2xx envelope: data through the schema, rate-limit headers read, one report without an error", async () => {
    const reset = Math.floor(NOW / 1000) + 20;
    const { res, err, report } = await exchange(
      ok({ order_id: 12345, state_id: 3, state_name: "Packed" }, 200, {
        "X-RateLimit-Limit": "60",
        "X-RateLimit-Remaining": "45",
        "X-RateLimit-Reset": String(reset),
      }),
      statusSchema,
    );
    assert.equal(err, null);
    assert.equal(res!.status, 200);
    assert.deepEqual(res!.data, { order_id: "12345", state_id: 3, state_name: "Packed" });
    assert.deepEqual(res!.rateLimit, { limit: 60, remaining: 45, resetAt: reset * 1000 });
    assert.equal(report.length, 1);
    assert.deepEqual(
      { ...report[0], durationMs: 0 },
      {
        endpoint: "GET /case",
        status: 200,
        durationMs: 0,
        rateLimit: { limit: 60, remaining: 45, resetAt: reset * 1000 },
        error: undefined,
      },
    );
  });

  it("sends the key, Accept, the JSON body with its Content-Type, and the query; a GET has no Content-Type", async () => {
    answers.set("/shape", ok({}));
    const http = send();
    await http({
      endpoint: "POST /shape",
      method: "POST",
      path: "/shape",
      query: { page: 2, sku: ["a", "b"] },
      body: { ñ: "ü" },
      schema: anything,
    });
    await http({ endpoint: "GET /shape", method: "GET", path: "/shape", schema: anything });
    const [post, get] = seen.filter((s) => s.url.startsWith("/api/v1/shape"));
    assert.equal(post!.method, "POST");
    assert.equal(post!.url, "/api/v1/shape?page=2&sku=a&sku=b");
    assert.equal(post!.headers["x-api-key"], API_KEY);
    assert.equal(post!.headers.accept, "application/json");
    assert.equal(post!.headers["content-type"], "application/json");
    assert.deepEqual(JSON.parse(post!.body), { ñ: "ü" });
    assert.equal(get!.method, "GET");
    assert.equal(get!.headers["content-type"], undefined);
    assert.equal(get!.body, "");
  });

  const HTTP_CASES: {
    name: string;
    answer: Answer;
    schema?: z.ZodType<unknown>;
    want: Expected;
    reportStatus?: number;
    secret?: string;
    todo?: string;
  }[] = [
    {
      name: "2xx with success:false and validation_error: the error it describes, details included",
      answer: { status: 200, body: errorBody("validation_error", "Invalid order data", VALIDATION_DETAILS) },
      want: rejected(400, "validation_error", {
        details: VALIDATION_DETAILS,
        message: /^ZenFlow rejected GET \/case: HTTP 400 \(validation_error/,
      }),
      reportStatus: 200,
    },
    {
      name: "2xx with success:false and rate_limit_exceeded, Retry-After as an HTTP date",
      answer: {
        status: 200,
        headers: { "Retry-After": new Date(NOW + 20_000).toUTCString() },
        body: errorBody("rate_limit_exceeded", "Rate limit exceeded."),
      },
      want: rateLimited(20_000),
      reportStatus: 200,
    },
    {
      name: "2xx with success:false and an auth code is an auth failure (pauses sending, no attempt used)",
      answer: { status: 200, body: errorBody("invalid_api_key", "The API key provided is invalid") },
      want: auth(200, "invalid_api_key", { status: undefined }),
    },
    {
      name: "2xx with success:false and not_found is a NotFoundError",
      answer: { status: 200, body: errorBody("not_found", "Order not found") },
      want: notFound(),
    },
    {
      name: "2xx with success:false and already_exists is a ConflictError",
      answer: { status: 200, body: errorBody("already_exists", "Product with this barcode already exists") },
      want: conflict(),
    },
    {
      name: "429 with Retry-After as an HTTP date",
      answer: { status: 429, headers: { "Retry-After": new Date(NOW + 45_000).toUTCString() }, body: errorBody("rate_limit_exceeded") },
      want: rateLimited(45_000, { message: "ZenFlow rate limit reached on GET /case; retry in 45 s" }),
    },
    {
      name: "429 with fractional Retry-After seconds",
      answer: { status: 429, headers: { "Retry-After": "2.5" }, body: errorBody("rate_limit_exceeded") },
      want: rateLimited(2500),
    },
    {
      name: "429 without Retry-After, X-RateLimit-Reset in milliseconds",
      answer: {
        status: 429,
        headers: { "X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": String(NOW + 33_000) },
        body: errorBody("rate_limit_exceeded"),
      },
      want: rateLimited(33_000),
    },
    {
      name: "429 without Retry-After, X-RateLimit-Reset in seconds",
      answer: {
        status: 429,
        headers: { "X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": String(NOW / 1000 + 17) },
      },
      want: rateLimited(17_000),
    },
    {
      name: "429 with a garbage Retry-After and no reset: 30 s",
      answer: { status: 429, headers: { "Retry-After": "whenever" } },
      want: rateLimited(30_000),
    },
    {
      name: "2xx whose body is not JSON: named by endpoint, the body never echoed",
      answer: { status: 200, body: "<html>Juan Pérez, Calle Falsa 123</html>" },
      want: invalidBody({
        message: "ZenFlow answered GET /case with an unexpected body (body is not JSON)",
        issues: ["body is not JSON"],
      }),
      secret: "Juan Pérez",
    },
    {
      name: "2xx with an empty body",
      answer: { status: 200 },
      want: invalidBody({
        message: "ZenFlow answered GET /case with an unexpected body (empty body)",
        issues: ["empty body"],
      }),
    },
    {
      name: "2xx whose JSON is a bare string",
      answer: { status: 201, body: JSON.stringify("Juan Pérez") },
      want: invalidBody({
        message: /^ZenFlow answered GET \/case/,
      }),
      secret: "Juan Pérez",
    },
    {
      name: "2xx whose data fails the schema: the failing path named, the values never echoed",
      answer: ok({ order_id: 12, state_id: "SECRET-STATE", external_id: "SO-CUSTOMER-SECRET" }),
      schema: statusSchema,
      want: invalidBody({
        issues: ["data.state_id: Invalid input: expected number, received string"],
        message: "ZenFlow answered GET /case with an unexpected body (data.state_id: Invalid input: expected number, received string)",
      }),
      secret: "SECRET",
    },
    {
      name: "2xx without data: the root named",
      answer: { status: 200, body: { success: true } },
      schema: statusSchema,
      want: invalidBody({
        issues: ["data.(root): Invalid input: expected object, received undefined"],
      }),
    },
    {
      name: "2xx with nested failures: each path named",
      answer: ok({ orders: [{ id: "", order_tenant_id: 5 }] }),
      schema: createOrdersResultSchema,
      want: invalidBody({
        issues: [/^data\.orders\.0\.id: /, /^data\.orders\.0\.order_tenant_id: /],
      }),
    },
    {
      name: "5xx with an HTML page from a proxy: a server error, the page never echoed",
      answer: { status: 502, headers: { "content-type": "text/html" }, body: "<h1>Bad gateway for Juan Pérez</h1>" },
      want: server(502, { message: "ZenFlow failed on GET /case: HTTP 502" }),
      secret: "Juan Pérez",
    },
    {
      name: "401 with a non-JSON body",
      answer: { status: 401, body: "Unauthorized" },
      want: auth(401, "http_401"),
    },
    {
      name: "404 with an envelope over real HTTP",
      answer: { status: 404, body: errorBody("not_found", "Product not found") },
      want: notFound({
        status: 404,
        zenflowMessage: "Product not found",
      }),
    },
  ];

  for (const c of HTTP_CASES) {
    it(c.name, c.todo ? { todo: c.todo } : {}, async () => {
      const { res, err, report } = await exchange(c.answer, c.schema);
      assert.equal(res, null, "no response returned");
      assertError(err, c.want, c.name);
      if (c.secret) assert.ok(!(err as Error).message.includes(c.secret), `the body is never echoed: ${(err as Error).message}`);
      assert.equal(report.length, 1, "one report per request");
      assert.equal(report[0]!.status, c.reportStatus ?? c.answer.status, "the report carries the HTTP status");
      assert.equal(report[0]!.error, err, "the report carries the error");
    });
  }

  it("a request that gets no answer within timeoutMs is a TimeoutError", async () => {
    answers.set("/hang", { status: 200, hang: true });
    const before = reports.length;
    await assert.rejects(send({ timeoutMs: 100 })({ endpoint: "GET /hang", method: "GET", path: "/hang", schema: anything }), (err) => {
      assertError(
        err,
        {
          cls: TimeoutError,
          code: "timeout",
          retryable: true,
          countsAsAttempt: true,
          message: "ZenFlow did not answer GET /hang within 100 ms",
        },
        "hang",
      );
      return true;
    });
    assert.equal(reports[before]!.status, null);
  });

  it("a request interrupted by the plugin stopping is an AbortedError that uses no attempt", async () => {
    answers.set("/hang-abort", { status: 200, hang: true });
    const stop = new AbortController();
    const arrived = seen.length;
    const pending = send({ signal: stop.signal })({ endpoint: "GET /hang-abort", method: "GET", path: "/hang-abort", schema: anything });
    // Stop once the server holds the request (an outcome, polled), not after a guessed delay.
    while (seen.length === arrived) await new Promise((r) => setImmediate(r));
    stop.abort();
    await assert.rejects(pending, (err) => {
      assertError(
        err,
        {
          cls: AbortedError,
          code: "aborted",
          retryable: true,
          countsAsAttempt: false,
          message: "GET /hang-abort interrupted: the plugin is stopping",
        },
        "abort",
      );
      return true;
    });
  });

  it("nothing is sent once the plugin is stopping", async () => {
    const stop = new AbortController();
    stop.abort();
    const arrived = seen.length;
    await assert.rejects(send({ signal: stop.signal })({ endpoint: "GET /x", method: "GET", path: "/x", schema: anything }), (err) => {
      assertError(
        err,
        { cls: AbortedError, code: "aborted", retryable: true, countsAsAttempt: false, message: "GET /x not sent: the plugin is stopping" },
        "pre-abort",
      );
      return true;
    });
    assert.equal(seen.length, arrived, "no request reached the server");
  });

  it("a refused connection is a NetworkError naming the cause", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const http = createHttp({ baseUrl: `http://127.0.0.1:${port}/api/v1`, apiKey: API_KEY, timeoutMs: 5000, clock: fixedClock });
    await assert.rejects(http({ endpoint: "GET /orders", method: "GET", path: "/orders", schema: anything }), (err) => {
      assertError(
        err,
        {
          cls: NetworkError,
          code: "network",
          retryable: true,
          countsAsAttempt: true,
          message: "Could not reach ZenFlow for GET /orders: ECONNREFUSED",
        },
        "refused",
      );
      return true;
    });
  });
});
