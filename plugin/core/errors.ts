// One root class and a flat set of subclasses. Each error says, where it is raised,
// whether trying again can help (`retryable`) and carries a stable `code` that the
// outbox, health and dashboard key on. Messages never contain the API key: the HTTP
// layer builds them from the method, the path and ZenFlow's own error code/message.

export abstract class ZenflowError extends Error {
  abstract readonly code: string;
  abstract readonly retryable: boolean;
  /** When set, the earliest moment (epoch ms) a retry may happen. */
  retryAt?: number;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Connection refused or reset, DNS failure: nothing reached ZenFlow, or the answer was lost. */
export class NetworkError extends ZenflowError {
  readonly code = "network";
  readonly retryable = true;
}

export class TimeoutError extends ZenflowError {
  readonly code = "timeout";
  readonly retryable = true;
}

/** The plugin is shutting down; the job goes back to the queue untouched. */
export class AbortedError extends ZenflowError {
  readonly code = "aborted";
  readonly retryable = true;
}

/** The change depends on another that has not reached ZenFlow yet (stock of a product still on its way). */
export class NotYetError extends ZenflowError {
  readonly code = "waiting_for_dependency";
  readonly retryable = true;
}

/** Another process is working on the same entity right now; try again in a moment. */
export class ContentionError extends ZenflowError {
  readonly code = "contention";
  readonly retryable = true;
}

export class RateLimitError extends ZenflowError {
  readonly code = "rate_limited";
  readonly retryable = true;
  constructor(
    message: string,
    readonly retryAfterMs: number,
  ) {
    super(message);
  }
}

export class ServerError extends ZenflowError {
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
export class AuthError extends ZenflowError {
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
  /** A missing scope blocks one kind of work; every other auth failure blocks all sending. */
  get blocksEverything(): boolean {
    return this.zenflowCode !== "insufficient_scope";
  }
}

export interface FieldProblem {
  field: string;
  message: string;
}

/** 400/422 (and 409/404 through the subclasses): ZenFlow refused this request; resending it unchanged cannot help. */
export class RejectedError extends ZenflowError {
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

/** A status ZenFlow does not document (3xx, 418 …). */
export class UnexpectedStatusError extends ZenflowError {
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
 * ZenFlow answered 2xx with a body we cannot use. Retryable: the writes we make are
 * idempotent, and a bad deploy on ZenFlow's side is usually short-lived; the attempt
 * limit turns a lasting problem into a dead letter.
 */
export class InvalidResponseError extends ZenflowError {
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
export class MappingError extends ZenflowError {
  readonly code = "invalid_record";
  readonly retryable = false;
  constructor(
    readonly record: string,
    readonly problems: FieldProblem[],
  ) {
    super(`${record} cannot be sent to ZenFlow: ${problems.map((p) => `${p.field} ${p.message}`).join("; ")}`);
  }
}

export function isZenflowError(err: unknown): err is ZenflowError {
  return err instanceof ZenflowError;
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

/** A short, secret-free description of any thrown value, for logs and the dashboard. */
export function describeError(err: unknown): string {
  if (err instanceof RejectedError) {
    const details = err.details.length ? ` (${err.details.map((d) => `${d.field}: ${d.message}`).join("; ")})` : "";
    return `${err.message}${details}`;
  }
  if (err instanceof Error) return err.message;
  return String(err);
}
