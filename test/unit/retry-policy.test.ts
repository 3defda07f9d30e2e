// The retry policy lives on the errors (plugin/core/errors.ts): for each SyncError subclass,
// for ErpError (plugin/core/erp-port.ts) and for anything else thrown, whether retrying can
// help, whether the failure uses an attempt, what the job records, and when it may run again.
// Backoff is random (full jitter): its checks are bounds over many draws, never exact times.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type BackoffPolicy, DEFAULT_BACKOFF } from "../../plugin/core/backoff";
import { ErpError } from "../../plugin/core/erp-port";
import {
  AbortedError,
  AUTH_PAUSE_MS,
  AuthError,
  ConflictError,
  ContentionError,
  InvalidResponseError,
  MappingError,
  NetworkError,
  NotFoundError,
  NotYetError,
  RateLimitError,
  RejectedError,
  retryPolicyOf,
  ServerError,
  SyncError,
  TimeoutError,
  UnexpectedStatusError,
} from "../../plugin/core/errors";
import type { ErpErrorCode } from "../../plugin/core/host-api";
import "../support/leak-check";

const NOW = Date.UTC(2026, 0, 15, 10, 30, 0);
const BACKOFF: BackoffPolicy = { baseMs: 1000, capMs: 60_000 };
const DRAWS = 200;

/** `nextAttemptAt` drawn many times: every draw in [min, max), and (when `spread` and the window is wide) not all the same. */
function assertDraws(draw: () => number, min: number, max: number, label: string, spread = true): void {
  const seen = new Set<number>();
  for (let i = 0; i < DRAWS; i++) {
    const t = draw();
    assert.ok(t >= min && t < max, `${label}: ${t - NOW} ms after now, expected in [${min - NOW}, ${max - NOW})`);
    seen.add(t);
  }
  if (spread && max - min >= 100) assert.ok(seen.size > 1, `${label}: jittered, not one fixed time`);
}

type When =
  | { kind: "backoff" }
  | { kind: "exactly"; at: number }
  /** `spread: false`: only the bounds are checked. */
  | { kind: "within"; min: number; max: number; spread?: boolean };

interface Case {
  name: string;
  make: () => SyncError;
  code: string;
  retryable: boolean;
  countsAsAttempt: boolean;
  jobCode?: string;
  jobMessage?: string;
  /** When attempt 3 may run, with BACKOFF. */
  when: When;
}

const details = [{ field: "assembly_date", message: "Must be YYYY-MM-DD" }];

const CASES: Case[] = [
  {
    name: "NetworkError",
    make: () => new NetworkError("Could not reach ZenFlow"),
    code: "network",
    retryable: true,
    countsAsAttempt: true,
    when: { kind: "backoff" },
  },
  {
    name: "TimeoutError",
    make: () => new TimeoutError("no answer"),
    code: "timeout",
    retryable: true,
    countsAsAttempt: true,
    when: { kind: "backoff" },
  },
  {
    name: "AbortedError: back to the queue at once, no attempt used",
    make: () => new AbortedError("stopping"),
    code: "aborted",
    retryable: true,
    countsAsAttempt: false,
    when: { kind: "exactly", at: NOW },
  },
  {
    name: "NotYetError",
    make: () => new NotYetError("product not in ZenFlow yet"),
    code: "waiting_for_dependency",
    retryable: true,
    countsAsAttempt: true,
    when: { kind: "backoff" },
  },
  {
    name: "ContentionError: soon, with jitter, no attempt used",
    make: () => new ContentionError("another process"),
    code: "contention",
    retryable: true,
    countsAsAttempt: false,
    when: { kind: "within", min: NOW + 50, max: NOW + 250 },
  },
  {
    name: "RateLimitError: not before the wait ZenFlow asked for, no attempt used",
    make: () => new RateLimitError("slow down", 30_000),
    code: "rate_limited",
    retryable: true,
    countsAsAttempt: false,
    when: { kind: "within", min: NOW + 30_000, max: NOW + 30_000 + 500 },
  },
  {
    name: "RateLimitError with a short wait: spread over the half second after it",
    make: () => new RateLimitError("slow down", 100),
    code: "rate_limited",
    retryable: true,
    countsAsAttempt: false,
    when: { kind: "within", min: NOW + 100, max: NOW + 600 },
  },
  {
    name: "RateLimitError with retryAt (the shared pause): not before it",
    make: () => Object.assign(new RateLimitError("slow down", 1000), { retryAt: NOW + 45_000 }),
    code: "rate_limited",
    retryable: true,
    countsAsAttempt: false,
    when: { kind: "within", min: NOW + 45_000, max: NOW + 45_000 + 500 },
  },
  {
    name: "ServerError",
    make: () => new ServerError("HTTP 503", 503),
    code: "server_error",
    retryable: true,
    countsAsAttempt: true,
    when: { kind: "backoff" },
  },
  {
    name: "AuthError: waits out the auth pause, no attempt used, records ZenFlow's code",
    make: () => new AuthError("refused", 401, "invalid_api_key"),
    code: "auth",
    retryable: false,
    countsAsAttempt: false,
    jobCode: "invalid_api_key",
    jobMessage: "refused",
    when: { kind: "exactly", at: NOW + AUTH_PAUSE_MS },
  },
  {
    name: "AuthError with retryAt (the shared pause): exactly then",
    make: () => Object.assign(new AuthError("refused", 401, "revoked_api_key"), { retryAt: NOW + 90_000 }),
    code: "auth",
    retryable: false,
    countsAsAttempt: false,
    jobCode: "revoked_api_key",
    when: { kind: "exactly", at: NOW + 90_000 },
  },
  {
    name: "AuthError for a missing scope says which",
    make: () => new AuthError("refused", 403, "insufficient_scope", "write:stock"),
    code: "auth",
    retryable: false,
    countsAsAttempt: false,
    jobCode: "insufficient_scope",
    jobMessage: "the ZenFlow API key lacks the scope write:stock",
    when: { kind: "exactly", at: NOW + AUTH_PAUSE_MS },
  },
  {
    name: "RejectedError: a refusal, with ZenFlow's field problems in the job's message",
    make: () => new RejectedError("ZenFlow rejected POST /orders: HTTP 400", 400, "validation_error", "Invalid order data", details),
    code: "rejected",
    retryable: false,
    countsAsAttempt: true,
    jobCode: "rejected",
    jobMessage: "ZenFlow rejected POST /orders: HTTP 400 (assembly_date: Must be YYYY-MM-DD)",
    when: { kind: "backoff" },
  },
  {
    name: "NotFoundError",
    make: () => new NotFoundError("not found", 404, "not_found", "Order not found"),
    code: "not_found",
    retryable: false,
    countsAsAttempt: true,
    jobMessage: "not found",
    when: { kind: "backoff" },
  },
  {
    name: "ConflictError",
    make: () => new ConflictError("conflict", 409, "already_exists", "exists"),
    code: "conflict",
    retryable: false,
    countsAsAttempt: true,
    when: { kind: "backoff" },
  },
  {
    name: "UnexpectedStatusError",
    make: () => new UnexpectedStatusError("HTTP 302", 302),
    code: "unexpected_status",
    retryable: false,
    countsAsAttempt: true,
    when: { kind: "backoff" },
  },
  {
    name: "InvalidResponseError: retried (writes are idempotent), attempts limit it",
    make: () => new InvalidResponseError("GET /orders", ["empty body"]),
    code: "invalid_response",
    retryable: true,
    countsAsAttempt: true,
    jobMessage: "ZenFlow answered GET /orders with an unexpected body (empty body)",
    when: { kind: "backoff" },
  },
  {
    name: "MappingError: the record must change",
    make: () => new MappingError("Order SO-1", [{ field: "shippingAddress", message: "is missing" }]),
    code: "invalid_record",
    retryable: false,
    countsAsAttempt: true,
    jobMessage: "Order SO-1 cannot be sent to ZenFlow: shippingAddress is missing",
    when: { kind: "backoff" },
  },
  ...(["not_found", "invalid", "conflict"] as const).map((code): Case => ({
    name: `ErpError ${code}: will not fix itself`,
    make: () => new ErpError(code, `ctx.erp said ${code}`),
    code,
    retryable: false,
    countsAsAttempt: true,
    jobCode: code,
    jobMessage: `ctx.erp said ${code}`,
    when: { kind: "backoff" },
  })),
  {
    name: "ErpError unavailable: may",
    make: () => new ErpError("unavailable", "the ERP is restarting"),
    code: "unavailable",
    retryable: true,
    countsAsAttempt: true,
    jobCode: "unavailable",
    when: { kind: "backoff" },
  },
];

describe("retry policy of each SyncError", () => {
  for (const c of CASES) {
    it(c.name, () => {
      const err = c.make();
      const policy = retryPolicyOf(err);
      assert.equal(policy, err, "a SyncError is its own policy");
      assert.equal(err.code, c.code);
      assert.equal(err.retryable, c.retryable, "retryable");
      assert.equal(err.countsAsAttempt, c.countsAsAttempt, "countsAsAttempt");
      assert.equal(err.jobCode, c.jobCode ?? c.code, "jobCode");
      if (c.jobMessage !== undefined) assert.equal(err.jobMessage, c.jobMessage, "jobMessage");
      assert.equal(err.name, err.constructor.name, "named after its class");
      const when = c.when;
      if (when.kind === "exactly") {
        assert.equal(err.nextAttemptAt(NOW, 3, BACKOFF), when.at);
      } else if (when.kind === "within") {
        assertDraws(() => err.nextAttemptAt(NOW, 3, BACKOFF), when.min, when.max, c.name, when.spread);
      } else {
        // Attempt 3: full jitter under base · 2² = 4 s.
        assertDraws(() => err.nextAttemptAt(NOW, 3, BACKOFF), NOW, NOW + 4000, c.name);
      }
    });
  }

  it("backoff grows with the attempts up to the cap", () => {
    const err = new ServerError("HTTP 500", 500);
    assertDraws(() => err.nextAttemptAt(NOW, 1, BACKOFF), NOW, NOW + 1000, "attempt 1");
    assertDraws(() => err.nextAttemptAt(NOW, 5, BACKOFF), NOW, NOW + 16_000, "attempt 5");
    assertDraws(() => err.nextAttemptAt(NOW, 40, BACKOFF), NOW, NOW + 60_000, "attempt 40 (capped)");
    assertDraws(() => err.nextAttemptAt(NOW, 2), NOW, NOW + DEFAULT_BACKOFF.baseMs * 2, "the default policy");
  });

  it("a retryAt (ZenFlow's Retry-After, a shared pause) is a floor for the backoff", () => {
    const err = Object.assign(new NetworkError("reset"), { retryAt: NOW + 10_000 });
    assertDraws(() => err.nextAttemptAt(NOW, 1, BACKOFF), NOW + 10_000, NOW + 10_001, "retryAt above the backoff");
    assertDraws(() => err.nextAttemptAt(NOW, 10, BACKOFF), NOW + 10_000, NOW + 60_000, "backoff above retryAt");
  });

  it("a long rate-limit pause wakes the backlog spread over a short window, not all at one moment", () => {
    const err: SyncError = new RateLimitError("slow down", 30_000);
    const times = new Set(Array.from({ length: DRAWS }, () => err.nextAttemptAt(NOW, 1)));
    assert.ok(Math.min(...times) >= NOW + 30_000, "never before the pause ends");
    assert.ok(times.size > 1, `${times.size} distinct wake-up time(s) for ${DRAWS} jobs`);
  });
});

describe("retry policy of anything else thrown (a database hiccup, a bug)", () => {
  const cases: [string, unknown, string, string][] = [
    ["a plain Error", new Error("SQLITE_BUSY: database is locked"), "error", "SQLITE_BUSY: database is locked"],
    ["an Error with a string code", Object.assign(new Error("deadlock"), { code: "ER_LOCK_DEADLOCK" }), "ER_LOCK_DEADLOCK", "deadlock"],
    ["an Error with a numeric code", Object.assign(new Error("odd"), { code: 1213 }), "error", "odd"],
    ["an Error with an empty code", Object.assign(new Error("odd"), { code: "" }), "error", "odd"],
    ["a thrown string", "boom", "error", "boom"],
    ["a thrown null", null, "error", "null"],
    ["a thrown undefined", undefined, "error", "undefined"],
  ];
  for (const [name, thrown, jobCode, jobMessage] of cases) {
    it(`${name}: retried with backoff, counting attempts`, () => {
      const p = retryPolicyOf(thrown);
      assert.equal(p.retryable, true);
      assert.equal(p.countsAsAttempt, true);
      assert.equal(p.jobCode, jobCode);
      assert.equal(p.jobMessage, jobMessage);
      assertDraws(() => p.nextAttemptAt(NOW, 3, BACKOFF), NOW, NOW + 4000, name);
    });
  }
});

describe("ErpError.from: a ctx.erp failure by the contract's codes", () => {
  const CODES: [ErpErrorCode, boolean][] = [
    ["not_found", false],
    ["invalid", false],
    ["conflict", false],
    ["unavailable", true],
  ];
  for (const [code, retryable] of CODES) {
    it(`code ${code} → ${code}, ${retryable ? "retryable" : "not retryable"}`, () => {
      const cause = Object.assign(new Error(`host says ${code}`), { code });
      const err = ErpError.from(cause);
      assert.ok(err instanceof ErpError && err instanceof SyncError);
      assert.equal(err.code, code);
      assert.equal(err.retryable, retryable);
      assert.equal(err.countsAsAttempt, true);
      assert.equal(err.jobCode, code);
      assert.equal(err.message, `host says ${code}`);
      assert.equal(err.cause, cause);
      assert.equal(err.name, "ErpError");
    });
  }

  const unknown: [string, unknown, string][] = [
    ["an unknown code", Object.assign(new Error("connection reset"), { code: "ECONNRESET" }), "connection reset"],
    ["a code in another case", Object.assign(new Error("missing"), { code: "NOT_FOUND" }), "missing"],
    ["a numeric code", Object.assign(new Error("HTTP 404"), { code: 404 }), "HTTP 404"],
    ["no code", new Error("host bug"), "host bug"],
    ["a thrown string", "the ERP is down", "the ERP is down"],
    ["null", null, "null"],
  ];
  for (const [name, thrown, message] of unknown) {
    it(`${name} → unavailable (retryable)`, () => {
      const err = ErpError.from(thrown);
      assert.equal(err.code, "unavailable");
      assert.equal(err.retryable, true);
      assert.equal(err.message, message);
      assert.equal(err.cause, thrown);
    });
  }

  it("a thrown non-Error carrying a contract code keeps the code", () => {
    const err = ErpError.from({ code: "invalid" });
    assert.equal(err.code, "invalid");
    assert.equal(err.retryable, false);
  });

  it("an ErpError passes through unchanged", () => {
    const err = new ErpError("conflict", "already shipped");
    assert.equal(ErpError.from(err), err);
  });
});
