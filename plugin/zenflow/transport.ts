// The transport every synchronizer uses: the HTTP call, run through the limiter (and
// therefore the shared budget), with ZenFlow's answers fed back into that budget:
// 429 → a pause every process honours, 401/revoked keys → sending paused and health down,
// X-RateLimit-* → the shared count corrected.
import { AuthError, RateLimitError, describeError } from "../core/errors";
import type { RequestLog } from "../core/request-log";
import type { Clock } from "../core/clock";
import type { RequestLimiter } from "../budget/limiter";
import type { SharedBudget } from "../budget/shared-budget";
import type { PluginLogger } from "../core/host-api";
import type { HttpSend, ZenflowRequest, ZenflowResponse } from "./http";
import type { PriorityValue } from "../jobs/priorities";
import { reserveFor } from "../budget/admission";
import type { Transport } from "./client";

/** How long this process alone holds back after a 429 (the shared pause does the rest). */
const LOCAL_PAUSE_MAX_MS = 10_000;

export interface TransportDeps {
  http: HttpSend;
  limiter: RequestLimiter;
  budget: SharedBudget;
  clock: Clock;
  log: PluginLogger;
  /** Records requests that carry orders (`req.about`), for the order timeline. */
  requests?: RequestLog;
}

/** What became of one request, for the request log. */
interface Attempt {
  tokenAt: number;
  at: number;
  status: number | null;
  outcome: string;
  message: string | null;
  durationMs: number;
}

function failedAttempt(err: unknown, tokenAt: number, at: number, durationMs: number): Attempt {
  const status = err instanceof RateLimitError ? 429 : (err as { status?: unknown }).status;
  // ZenFlow's own code (validation_error, invalid_api_key) says more than the plugin's class.
  const e = err as { code?: unknown; zenflowCode?: unknown };
  const code = typeof e.zenflowCode === "string" && e.zenflowCode ? e.zenflowCode : e.code;
  return {
    tokenAt,
    at,
    status: typeof status === "number" ? status : null,
    outcome: typeof code === "string" && code ? code : "error",
    message: describeError(err),
    durationMs,
  };
}

export function createTransport(deps: TransportDeps): Transport {
  const { http, limiter, budget, clock, log } = deps;
  // The shared pause is checked when a token is taken; a request that got its token just
  // before another request of this process was told 429 must not leave afterwards.
  let localPauseUntil = 0;
  return function send<T>(req: ZenflowRequest<T>, priority: PriorityValue): Promise<ZenflowResponse<T>> {
    const reserve = reserveFor(priority);
    let attempt: Attempt | null = null;
    const sent = limiter.schedule(
      priority,
      async (tokenAt) => {
        const now = clock.now();
        try {
          if (now < localPauseUntil) {
            const err = new RateLimitError(`not sent: ZenFlow asked to slow down (${req.endpoint})`, localPauseUntil - now);
            err.retryAt = localPauseUntil;
            attempt = { tokenAt, at: now, status: null, outcome: "not_sent", message: err.message, durationMs: 0 };
            throw err;
          }
          const res = await http(req);
          attempt = { tokenAt, at: now, status: res.status, outcome: "ok", message: null, durationMs: res.durationMs };
          await budget.recordSuccess();
          if (res.rateLimit && res.rateLimit.remaining <= res.rateLimit.limit / 2) await budget.observe(res.rateLimit);
          return res;
        } catch (err) {
          attempt ??= failedAttempt(err, tokenAt, now, clock.now() - now);
          if (err instanceof RateLimitError) {
            if (err.retryAt !== undefined) throw err; // our own local refusal above
            const until = clock.now() + err.retryAfterMs;
            err.retryAt = until;
            // Only for requests of this process that already hold a token: every later one
            // meets the shared pause, which an admin can lift ("Resume sending now").
            localPauseUntil = Math.max(localPauseUntil, Math.min(until, clock.now() + LOCAL_PAUSE_MAX_MS));
            await budget.pause(until, "ZenFlow asked to slow down (HTTP 429)");
            log.warn({ endpoint: req.endpoint, retryAfterMs: err.retryAfterMs }, "ZenFlow rate limit hit; all processes pause");
          } else if (err instanceof AuthError && err.blocksEverything) {
            // Jobs wait for the shared pause, not for one of their own.
            err.retryAt = await budget.recordAuthFailure(err.message);
            log.error({ endpoint: req.endpoint, zenflowCode: err.zenflowCode }, "ZenFlow refused the API key; sending paused");
          }
          throw err;
        }
      },
      reserve,
    );
    const subjects = req.about;
    if (!deps.requests || !subjects?.length) return sent;
    const requests = deps.requests;
    // After the limiter's slot is free: the write is the timeline's, not the request's.
    const record = async () => {
      if (!attempt) return; // never left (the plugin stopped while it waited for a token)
      await requests
        .record({ subjects, endpoint: req.endpoint, path: req.path, ...attempt })
        .catch((err: unknown) =>
          log.warn({ endpoint: req.endpoint, err: describeError(err) }, "could not record a ZenFlow request for the order timeline"),
        );
    };
    return sent.then(
      async (res) => {
        await record();
        return res;
      },
      async (err: unknown) => {
        await record();
        throw err;
      },
    );
  };
}
