// One root class and a flat set of subclasses. Each error says, where it is raised,
// whether trying again can help (`retryable`), whether the failure uses up one of the
// job's attempts, and when the job may run again: the worker reads only that, so the retry
// policy lives with the errors. Each carries a stable `code` that the outbox, health and the
// dashboard key on. Messages never contain the API key: the HTTP layer builds them from the
// method, the path and ZenFlow's own error code/message.
import { type BackoffPolicy, fullJitterDelay, nextRunAt } from "./backoff";

/** How long an auth failure stops sending before one request probes the key again. */
export const AUTH_PAUSE_MS = 10 * 60_000;

/** A failure while bringing one entity into line with ZenFlow or the ERP. */
export abstract class SyncError extends Error {
  abstract readonly code: string;
  /** Sending the same thing again can succeed (a 5xx, a timeout), as opposed to a refusal. */
  abstract readonly retryable: boolean;
  /** False when the failure is not the job's fault (a pause, contention, shutdown): the job retries without using an attempt. */
  readonly countsAsAttempt: boolean = true;
  /** When set, the earliest moment (epoch ms) a retry may happen. */
  retryAt?: number;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
  /** When the job may run again after `attempts` attempts: never before `retryAt`, else the jittered backoff. */
  nextAttemptAt(now: number, attempts: number, backoff?: BackoffPolicy): number {
    return nextRunAt(now, attempts, this.retryAt, backoff);
  }
  /** The code a job that failed with this error records (what release() and the dashboard key on). */
  get jobCode(): string {
    return this.code;
  }
  /** The line a job that failed with this error records. */
  get jobMessage(): string {
    return describeError(this);
  }
}

/** Connection refused or reset, DNS failure: nothing reached ZenFlow, or the answer was lost. */
export class NetworkError extends SyncError {
  readonly code = "network";
  readonly retryable = true;
}

export class TimeoutError extends SyncError {
  readonly code = "timeout";
  readonly retryable = true;
}

/** The plugin is shutting down; the job goes back to the queue untouched. */
export class AbortedError extends SyncError {
  readonly code = "aborted";
  readonly retryable = true;
  override readonly countsAsAttempt = false;
  override nextAttemptAt(now: number): number {
    return now;
  }
}

/** The change depends on another that has not reached ZenFlow yet (stock of a product still on its way). */
export class NotYetError extends SyncError {
  readonly code = "waiting_for_dependency";
  readonly retryable = true;
}

/** Another process is working on the same entity right now; try again in a moment. */
export class ContentionError extends SyncError {
  readonly code = "contention";
  readonly retryable = true;
  override readonly countsAsAttempt = false;
  /** Soon, with jitter, so two processes do not collide again. */
  override nextAttemptAt(now: number): number {
    return now + 50 + Math.floor(Math.random() * 200);
  }
}

export class RateLimitError extends SyncError {
  readonly code = "rate_limited";
  readonly retryable = true;
  /** ZenFlow asked everyone to wait: not the job's fault. */
  override readonly countsAsAttempt = false;
  constructor(
    message: string,
    readonly retryAfterMs: number,
  ) {
    super(message);
  }
  /** Just after the pause, spread over the following half second so the whole backlog does not wake at once. */
  override nextAttemptAt(now: number): number {
    const end = this.retryAt ?? now + this.retryAfterMs;
    return end + fullJitterDelay(1, { baseMs: 500, capMs: 500 });
  }
}

export class ServerError extends SyncError {
  readonly code = "server_error";
  readonly retryable = true;
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** 401/403: the key is missing, invalid, expired, revoked, lacks a scope or the IP is not allowed. */
export class AuthError extends SyncError {
  readonly code = "auth";
  readonly retryable = false;
  constructor(
    message: string,
    readonly status: number,
    readonly zenflowCode: string,
    /** For insufficient_scope: the scope ZenFlow named. */
    readonly scope?: string,
  ) {
    super(message);
  }
  /** Not the job's fault: it waits for the key to be fixed instead of burning attempts. */
  override readonly countsAsAttempt = false;
  /** A missing scope blocks one kind of work; every other auth failure blocks all sending. */
  get blocksEverything(): boolean {
    return this.zenflowCode !== "insufficient_scope";
  }
  /** When sending resumes (the transport sets `retryAt` to the shared pause), else after the auth pause. */
  override nextAttemptAt(now: number): number {
    return this.retryAt ?? now + AUTH_PAUSE_MS;
  }
  override get jobCode(): string {
    return this.zenflowCode;
  }
  override get jobMessage(): string {
    return this.scope ? `the ZenFlow API key lacks the scope ${this.scope}` : describeError(this);
  }
}

export interface FieldProblem {
  field: string;
  message: string;
}

/** 400/422 (and 409/404 through the subclasses): ZenFlow refused this request; resending it unchanged cannot help. */
export class RejectedError extends SyncError {
  readonly code: string = "rejected";
  readonly retryable = false;
  constructor(
    message: string,
    readonly status: number,
    readonly zenflowCode: string,
    readonly zenflowMessage: string,
    readonly details: FieldProblem[] = [],
  ) {
    super(message);
  }
}

export class NotFoundError extends RejectedError {
  override readonly code = "not_found";
}

export class ConflictError extends RejectedError {
  override readonly code = "conflict";
}

/** A status outside what ZenFlow documents or we classify as a 4xx/5xx (1xx, 3xx …). */
export class UnexpectedStatusError extends SyncError {
  readonly code = "unexpected_status";
  readonly retryable = false;
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/**
 * ZenFlow (or something in front of it) answered with a redirect. It is never followed: the
 * request carries the API key and, for writes, customer names and addresses. Retryable (the
 * address setting is wrong, not the record), naming only the target's origin.
 */
export class RedirectError extends SyncError {
  readonly code = "redirect";
  readonly retryable = true;
  constructor(
    readonly endpoint: string,
    readonly status: number,
    readonly targetOrigin: string | null,
  ) {
    super(
      `ZenFlow answered ${endpoint} with a redirect (HTTP ${status}) to ${targetOrigin ?? "an unreadable address"}; redirects are never followed (the API key would go with it). Check the setting "ZenFlow API address".`,
    );
  }
}

/** ZenFlow's answer was larger than the plugin reads; reading stopped there. */
export class ResponseTooLargeError extends SyncError {
  readonly code = "response_too_large";
  readonly retryable = true;
  constructor(
    readonly endpoint: string,
    readonly limitBytes: number,
  ) {
    super(`ZenFlow's answer to ${endpoint} is larger than ${Math.round(limitBytes / 1_048_576)} MiB; the plugin stopped reading it`);
  }
}

/**
 * ZenFlow answered 2xx with a body we cannot use. Retryable: the writes we make are
 * idempotent, and a bad deploy on ZenFlow's side is usually short-lived; the attempt
 * limit turns a lasting problem into a dead letter.
 */
export class InvalidResponseError extends SyncError {
  readonly code = "invalid_response";
  readonly retryable = true;
  constructor(
    readonly endpoint: string,
    readonly issues: string[],
  ) {
    super(`ZenFlow answered ${endpoint} with an unexpected body (${issues.slice(0, 5).join("; ")})`);
  }
}

/** An ERP record that cannot be turned into a ZenFlow payload. Never retried: the record must change. */
export class MappingError extends SyncError {
  readonly code = "invalid_record";
  readonly retryable = false;
  constructor(
    readonly record: string,
    readonly problems: FieldProblem[],
  ) {
    super(`${record} cannot be sent to ZenFlow: ${problems.map((p) => `${p.field} ${p.message}`).join("; ")}`);
  }
}

/**
 * The retry policy of any thrown value. Errors that are not SyncErrors (a database hiccup, a
 * bug) are retried with backoff and count as attempts, so a lasting one ends as a dead letter.
 */
export function retryPolicyOf(
  err: unknown,
): Pick<SyncError, "retryable" | "countsAsAttempt" | "jobCode" | "jobMessage"> & { nextAttemptAt: SyncError["nextAttemptAt"] } {
  if (err instanceof SyncError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  return {
    retryable: true,
    countsAsAttempt: true,
    jobCode: typeof code === "string" && code ? code : "error",
    jobMessage: describeError(err),
    nextAttemptAt: (now, attempts, backoff) => nextRunAt(now, attempts, undefined, backoff),
  };
}

/** The error codes jobs carry while they wait for the API key to be fixed. */
export const AUTH_ERROR_CODES = [
  "missing_api_key",
  "invalid_api_key",
  "expired_api_key",
  "revoked_api_key",
  "insufficient_scope",
  "ip_not_allowed",
  "http_401",
  "http_403",
];

const SQL = /\b(insert\s+(ignore\s+)?into|select\s[\s\S]*\sfrom|update\s+\S+\s+set|delete\s+from|replace\s+into)\b/i;

/**
 * A database error as its driver code and the table, never its message: knex puts the whole
 * statement with its bound values into the message (webhook payloads with customer data, the
 * CSRF key being stored), and MariaDB's own text quotes values too ("Duplicate entry '…'").
 * Null for anything that is not a database error.
 */
export function describeDbError(err: unknown): string | null {
  const e = err as { code?: unknown; message?: unknown } | null;
  if (!e || typeof e !== "object") return null;
  const code = typeof e.code === "string" ? e.code : null;
  const message = typeof e.message === "string" ? e.message : "";
  if (!(code && /^(ER_|SQLITE_)/.test(code)) && !SQL.test(message)) return null;
  // A driver's own words without a statement or a quoted value ("Deadlock found …", "no such
  // table: …") carry no data: they are kept, they say more than the code.
  if (!SQL.test(message) && !/['"`]/.test(message) && message) return message;
  const table = /\b(?:into|from|update|join|table)\s+[`"']?([A-Za-z0-9_]+)/i.exec(message)?.[1];
  return `database error ${code ?? "(no code)"}${table ? ` on ${table}` : ""}`;
}

/** A short, secret-free description of any thrown value, for logs and the dashboard. */
export function describeError(err: unknown): string {
  const db = describeDbError(err);
  if (db) return db;
  if (err instanceof RejectedError) {
    const details = err.details.length ? ` (${err.details.map((d) => `${d.field}: ${d.message}`).join("; ")})` : "";
    return `${err.message}${details}`;
  }
  if (err instanceof Error) return err.message;
  return String(err);
}
