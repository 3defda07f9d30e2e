// The public webhook endpoint on ctx.http.public (no host authentication: we authenticate).
//
//   POST /webhooks/<token>
//
// In this order: unknown path or token → 404; body over 1 MB → 413; missing or wrong
// signature (checked on the raw bytes, constant-time, before parsing) → 401; no secret known
// yet → 503 so ZenFlow retries; malformed JSON or envelope → 400; stored in zenflow_inbox
// (event id unique) → 200, a duplicate → 200 without storing again; database unavailable →
// 503. Nothing is processed inside the request: the inbox worker does that. Business
// problems never turn into error statuses (ZenFlow could switch the hook off).
import { timingSafeEqual } from "node:crypto";
import express, { type NextFunction, type Request, type Response, type Router } from "express";
import { describeError } from "../core/errors";
import type { Knex } from "knex";
import type { Clock } from "../core/clock";
import type { ZenflowConfig } from "../core/config";
import type { PluginLogger } from "../core/host-api";
import type { KvStore } from "../core/kv-store";
import { entityOf, kindOf, toInboxRow } from "../jobs/inbox-row";
import { envelopeSchema, instant, normalizeEvent } from "./envelope";
import { readRegistration, validSecrets, webhookToken } from "./registration";
import { InboxIngest } from "./ingest";
import { verifySignature } from "./signature";

const MAX_BODY = "1mb";
/** How long a process trusts its cached token and secrets before reading them again. */
const CACHE_MS = 5000;

interface Credentials {
  token: string;
  secrets: string[];
  readAt: number;
}

/** What the public webhook route needs of the running plugin: its tables, and nothing that calls ZenFlow. */
export interface WebhookRouteDeps {
  db: Knex;
  clock: Clock;
  state: KvStore;
  log: PluginLogger;
  metrics: {
    webhookDeliveries: { inc(labels: { result: string }): void };
    webhookLatency: { observe(seconds: number): void };
  };
  /** The current valid config, or null while the plugin is unconfigured or stopped. */
  config(): ZenflowConfig | null;
  /** Wakes this process's inbox worker. */
  notifyInbox(): void;
}

export function mountWebhookRoutes(router: Router, deps: WebhookRouteDeps): void {
  let cache: Credentials | null = null;
  const inbox = new InboxIngest(deps.db);

  async function credentials(config: ZenflowConfig, fresh = false): Promise<Credentials> {
    const now = deps.clock.now();
    if (!fresh && cache && now - cache.readAt < CACHE_MS) return cache;
    const token = await webhookToken(deps.state);
    const secrets = validSecrets(await readRegistration(deps.state), config, now);
    cache = { token, secrets, readAt: now };
    return cache;
  }

  function answer(res: Response, status: number, result: string, body: Record<string, unknown>): void {
    deps.metrics.webhookDeliveries.inc({ result });
    res.status(status).json(body);
  }

  const raw = express.raw({ type: () => true, limit: MAX_BODY });

  // Started before the body is read, so the time includes receiving it.
  router.post("/webhooks/:token", (req: Request, res: Response, next: NextFunction) => {
    const started = process.hrtime.bigint();
    res.once("finish", () => deps.metrics.webhookLatency.observe(Number(process.hrtime.bigint() - started) / 1e9));
    next();
  });
  router.post("/webhooks/:token", raw, async (req: Request, res: Response) => {
    const config = deps.config();
    if (!config) return answer(res, 503, "unavailable", { error: "not ready" });
    let creds: Credentials;
    try {
      creds = await credentials(config);
    } catch {
      res.set("Retry-After", "30");
      return answer(res, 503, "unavailable", { error: "temporarily unavailable" });
    }
    if (!sameString(String(req.params.token ?? ""), creds.token)) return answer(res, 404, "not_found", { error: "not found" });

    const body: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const header = req.get(config.webhookSignatureHeader);
    let valid = verifySignature(body, header, creds.secrets, config.webhookSignatureEncoding);
    if (!valid && header) {
      // Another process may just have registered a new subscription: read once more.
      creds = (await credentials(config, true).catch(() => null)) ?? creds;
      valid = verifySignature(body, header, creds.secrets, config.webhookSignatureEncoding);
    }
    if (!creds.secrets.length) {
      res.set("Retry-After", "60");
      return answer(res, 503, "unavailable", { error: "webhook secret not known yet" });
    }
    if (!valid) return answer(res, 401, "bad_signature", { error: header ? "invalid signature" : "missing signature" });

    let json: unknown;
    try {
      json = JSON.parse(body.toString("utf8"));
    } catch {
      return answer(res, 400, "malformed", { error: "body is not valid JSON" });
    }
    const parsed = envelopeSchema.safeParse(json);
    if (!parsed.success) {
      return answer(res, 400, "malformed", {
        error: `not a ZenFlow webhook envelope: ${parsed.error.issues.map((i) => i.path.join(".") || "body").join(", ")}`,
      });
    }
    const env = parsed.data;
    const event = normalizeEvent(env.event);
    const kind = kindOf(event, config.stockSource === "zenflow");
    const now = deps.clock.now();
    try {
      const stored = await inbox.store(
        toInboxRow(
          {
            eventId: env.id,
            event,
            kind,
            entityKey: entityOf(kind, env.data),
            zenflowCreatedAt: instant(env.created_at),
            payload: body.toString("utf8"),
          },
          now,
        ),
      );
      if (!stored) return answer(res, 200, "duplicate", { received: true, duplicate: true });
    } catch (err) {
      deps.log.error({ err: describeError(err), eventId: env.id }, "could not store a ZenFlow webhook; ZenFlow will retry");
      res.set("Retry-After", "10");
      return answer(res, 503, "unavailable", { error: "temporarily unavailable" });
    }
    if (kind !== "ignored") deps.notifyInbox();
    return answer(res, 200, kind === "ignored" ? "ignored" : "accepted", {
      received: true,
      ...(kind === "ignored" ? { ignored: true } : {}),
    });
  });

  // Errors raised before our handler (body too large, aborted upload) end here.
  router.use("/webhooks", (err: unknown, _req: Request, res: Response, next: NextFunction) => {
    const status = (err as { status?: number; type?: string }).status;
    if (res.headersSent) return next(err);
    if (status === 413) return answer(res, 413, "too_large", { error: "body too large (1 MB at most)" });
    if (status && status >= 400 && status < 500) return answer(res, 400, "malformed", { error: "unreadable request" });
    return answer(res, 503, "unavailable", { error: "temporarily unavailable" });
  });
}

function sameString(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
