// The public webhook endpoint on ctx.http.public (no host authentication: we authenticate).
//
//   POST /webhooks/<token>
//
// In this order, each check before the next byte is read: plugin unconfigured, or unknown
// path or token → 404 (whoever probes learns nothing, and the connection is closed rather
// than drained); Content-Length over 1 MB → 413; more unauthenticated bodies in flight than
// the process allows → 503 with Retry-After. Then the body is read, at most 1 MB (413) within
// READ_DEADLINE_MS (408); the signature is checked over exactly the bytes that arrived,
// constant-time, before anything is parsed or inflated (missing or wrong → 401; no secret
// known yet → 503 so ZenFlow retries). A gzip or deflate body is inflated only after it
// verified, to at most 1 MB; any other Content-Encoding → 415. Malformed JSON or envelope →
// 400; stored in zenflow_inbox (event id unique) → 200, a duplicate → 200 without storing
// again; database unavailable → 503. Nothing is processed inside the request: the inbox
// worker does that. Business problems never turn into error statuses (ZenFlow could switch
// the hook off).
import { timingSafeEqual } from "node:crypto";
import { inflateSync, gunzipSync } from "node:zlib";
import type { NextFunction, Request, Response, Router } from "express";
import { describeError } from "../core/errors";
import { isMysql } from "../core/dialect";
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
import { printable } from "../core/text";
const MAX_BODY = 1_048_576;
/** How long a delivery may take to send its body. */
export const READ_DEADLINE_MS = 10_000;
/** Bodies being read before their signature is checked, per process, and their bytes together. */
export const MAX_UNVERIFIED_READS = 256;
export const MAX_UNVERIFIED_BYTES = 16 * MAX_BODY;
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
  /** The same share, ahead in the queue: a delivery is waiting on the other end of the inbox write. */
  urgentDb: Knex;
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
  // SQLite: one connection whose writes block the loop, so short batches one at a time. MariaDB:
  // commits cost more than rows, so longer batches, two in flight.
  const inbox = new InboxIngest(deps.urgentDb, isMysql(deps.db) ? { parallel: 2, collectMs: 10 } : { parallel: 1, collectMs: 5 });

  // One read at a time: when the cache expires in the middle of a burst, the 200 deliveries
  // in flight share one read instead of queueing 400 statements for the plugin's connections.
  let reading: Promise<Credentials> | null = null;
  async function credentials(config: ZenflowConfig, fresh = false): Promise<Credentials> {
    const now = deps.clock.now();
    if (!fresh && cache && now - cache.readAt < CACHE_MS) return cache;
    reading ??= (async () => {
      const token = await webhookToken(deps.state);
      const secrets = validSecrets(await readRegistration(deps.state), config, now);
      cache = { token, secrets, readAt: now };
      return cache;
    })().finally(() => (reading = null));
    return reading;
  }

  function answer(res: Response, status: number, result: string, body: Record<string, unknown>): void {
    deps.metrics.webhookDeliveries.inc({ result });
    if (res.headersSent) return;
    res.status(status).json(body);
  }

  /** Answers before (or instead of) reading the body: the connection closes, so the rest is never read. */
  function refuse(res: Response, status: number, result: string, body: Record<string, unknown>): void {
    res.set("Connection", "close");
    answer(res, status, result, body);
  }

  const reads = { count: 0, bytes: 0 };

  // Started before the body is read, so the time includes receiving it.
  router.post("/webhooks/:token", async (req: Request, res: Response) => {
    const started = process.hrtime.bigint();
    res.once("finish", () => deps.metrics.webhookLatency.observe(Number(process.hrtime.bigint() - started) / 1e9));
    const config = deps.config();
    // Unconfigured looks like not installed: a prober learns nothing.
    if (!config) return refuse(res, 404, "not_found", { error: "not found" });
    let creds: Credentials;
    try {
      creds = await credentials(config);
    } catch {
      res.set("Retry-After", "30");
      return refuse(res, 503, "unavailable", { error: "temporarily unavailable" });
    }
    if (!sameString(String(req.params.token ?? ""), creds.token)) return refuse(res, 404, "not_found", { error: "not found" });

    const declared = Number(req.get("content-length"));
    if (Number.isFinite(declared) && declared > MAX_BODY) return refuse(res, 413, "too_large", { error: "body too large (1 MB at most)" });
    const encoding = (req.get("content-encoding") ?? "identity").trim().toLowerCase();
    if (!["identity", "gzip", "x-gzip", "deflate"].includes(encoding))
      return refuse(res, 415, "unsupported_encoding", { error: "Content-Encoding must be identity, gzip or deflate" });
    if (reads.count >= MAX_UNVERIFIED_READS) {
      res.set("Retry-After", "5");
      return refuse(res, 503, "busy", { error: "too many deliveries at once; retry shortly" });
    }

    let body: Buffer;
    reads.count++;
    try {
      const read = await readBody(req, reads);
      if (read === "too_large") return refuse(res, 413, "too_large", { error: "body too large (1 MB at most)" });
      if (read === "busy") {
        res.set("Retry-After", "5");
        return refuse(res, 503, "busy", { error: "too many deliveries at once; retry shortly" });
      }
      if (read === "timeout") return refuse(res, 408, "timeout", { error: `the body did not arrive within ${READ_DEADLINE_MS / 1000} s` });
      if (read === "aborted") return;
      body = read;
    } finally {
      reads.count--;
    }

    // The signature covers the bytes as they were sent (compressed, if they were).
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
    if (encoding !== "identity") {
      try {
        const inflate = encoding === "deflate" ? inflateSync : gunzipSync;
        body = inflate(body, { maxOutputLength: MAX_BODY });
      } catch {
        return answer(res, 400, "malformed", { error: "the compressed body is corrupt or inflates beyond 1 MB" });
      }
    }

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
      deps.log.error({ err: describeError(err), eventId: printable(env.id) }, "could not store a ZenFlow webhook; ZenFlow will retry");
      res.set("Retry-After", "10");
      return answer(res, 503, "unavailable", { error: "temporarily unavailable" });
    }
    if (kind !== "ignored") deps.notifyInbox();
    return answer(res, 200, kind === "ignored" ? "ignored" : "accepted", {
      received: true,
      ...(kind === "ignored" ? { ignored: true } : {}),
    });
  });

  // Anything thrown before an answer ends here, never in the host's error page.
  router.use("/webhooks", (err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    deps.log.error({ err: describeError(err) }, "the ZenFlow webhook endpoint failed");
    return refuse(res, 503, "unavailable", { error: "temporarily unavailable" });
  });
}

type ReadResult = Buffer | "too_large" | "busy" | "timeout" | "aborted";

/**
 * The request body, read within READ_DEADLINE_MS and at most MAX_BODY bytes, while all reads
 * of this process together hold at most MAX_UNVERIFIED_BYTES. On any refusal the stream is
 * paused, never drained: the answer closes the connection.
 */
function readBody(req: Request, reads: { bytes: number }): Promise<ReadResult> {
  // A host that parsed the body already (it should not) hands it over as it is.
  if (Buffer.isBuffer(req.body) && req.readableEnded) return Promise.resolve(req.body);
  return new Promise<ReadResult>((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (r: ReadResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reads.bytes -= size;
      req.off("data", onData).off("end", onEnd).off("error", onAbort).off("aborted", onAbort).off("close", onClose);
      if (!Buffer.isBuffer(r)) req.pause();
      resolve(r);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      reads.bytes += chunk.length;
      if (size > MAX_BODY) return finish("too_large");
      if (reads.bytes > MAX_UNVERIFIED_BYTES) return finish("busy");
      chunks.push(chunk);
    };
    const onEnd = () => finish(Buffer.concat(chunks, size));
    const onAbort = () => finish("aborted");
    const onClose = () => {
      if (!req.complete) finish("aborted");
    };
    const timer = setTimeout(() => finish("timeout"), READ_DEADLINE_MS);
    timer.unref();
    req.on("data", onData).once("end", onEnd).once("error", onAbort).once("aborted", onAbort).once("close", onClose);
  });
}

function sameString(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
