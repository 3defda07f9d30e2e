// Webhook delivery engine. Events are delivered asynchronously (never inside the API
// request), one at a time per subscription and in event order, retried with
// exponential backoff (retryBaseMs * 2^(attempt-1)) until a 2xx or maxAttempts.
// The docs leave headers, signature, timeout and retry schedule open (§8.3–8.4);
// the choices here are the sandbox's.
import type http from "node:http";
import { performance } from "node:perf_hooks";
import { spell, toSlash } from "./events";
import { httpPost, type PostResult } from "./http-post";
import { randomHex, sign } from "./signature";
import { isoSeconds } from "./time";
import type { DeliveryLogEntry, EventSpelling, SandboxWebhook } from "./types";

const MAX_STORED_EVENTS = 10_000;

export interface ResolvedWebhookOptions {
  signatureHeader: string;
  timeoutMs: number;
  maxAttempts: number;
  retryBaseMs: number;
  eventSpelling: EventSpelling;
}

interface StoredEvent {
  id: string;
  slashName: string;
  spelled: string;
  /** Serialized once so every subscription and every replay gets the same bytes. */
  body: Buffer;
}

interface Job {
  event: StoredEvent;
  done: () => void;
}

interface SubQueue {
  jobs: Job[];
  running: boolean;
}

interface Sleep {
  timer: NodeJS.Timeout;
  resolve: () => void;
}

export interface DispatcherDeps {
  now: () => number;
  opts: ResolvedWebhookOptions;
  subscriptions: () => readonly SandboxWebhook[];
  log: (e: DeliveryLogEntry) => void;
}

export class WebhookDispatcher {
  private events = new Map<string, StoredEvent>();
  private queues = new Map<string, SubQueue>();
  private pending = 0;
  private idleWaiters: (() => void)[] = [];
  private readonly inflight = new Set<http.ClientRequest>();
  private readonly sleeps = new Set<Sleep>();
  private closed = false;
  /** Bumped by reset() so workers of the previous generation stop. */
  private generation = 0;

  constructor(private readonly deps: DispatcherDeps) {}

  /** Builds the envelope {id, event, created_at, data}; resolves when every matching subscription is done with it. */
  emit(event: string, data: Record<string, unknown>, opts: { id?: string; createdAt?: string } = {}): Promise<void> {
    const slashName = toSlash(event);
    const spelled = spell(slashName, this.deps.opts.eventSpelling);
    const id = opts.id ?? `evt_${randomHex(12)}`;
    const envelope = { id, event: spelled, created_at: opts.createdAt ?? isoSeconds(this.deps.now()), data };
    const stored: StoredEvent = { id, slashName, spelled, body: Buffer.from(JSON.stringify(envelope), "utf8") };
    this.events.set(id, stored);
    // Keep the most recent events for redeliver(); long benchmark runs must not grow without bound.
    if (this.events.size > MAX_STORED_EVENTS) this.events.delete(this.events.keys().next().value!);
    return this.dispatch(stored);
  }

  /** Delivers the very same envelope bytes again (a replay, as a receiver would see a duplicate). */
  redeliver(eventId: string): Promise<void> {
    const stored = this.events.get(eventId);
    if (!stored) return Promise.reject(new Error(`Unknown event ${eventId}`));
    return this.dispatch(stored);
  }

  deliverRaw(url: string, body: string | Buffer, headers: Record<string, string>): Promise<PostResult> {
    const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : body;
    return httpPost(url, bytes, headers, this.deps.opts.timeoutMs, this.inflight);
  }

  sign(secret: string, rawBody: string | Buffer): string {
    return sign(secret, rawBody);
  }

  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Drops queued work, aborts in-flight attempts and pending retries. */
  reset(): void {
    this.generation++;
    this.abortAll();
    this.events = new Map();
  }

  close(): void {
    this.closed = true;
    this.generation++;
    this.abortAll();
  }

  private dispatch(e: StoredEvent): Promise<void> {
    if (this.closed) return Promise.resolve();
    const subs = this.deps.subscriptions().filter((s) => s.active && s.events.includes(e.slashName));
    return Promise.all(subs.map((s) => this.enqueue(s.id, e))).then(() => undefined);
  }

  private enqueue(subId: string, event: StoredEvent): Promise<void> {
    return new Promise((resolve) => {
      let q = this.queues.get(subId);
      if (!q) {
        q = { jobs: [], running: false };
        this.queues.set(subId, q);
      }
      this.pending++;
      q.jobs.push({ event, done: resolve });
      if (!q.running) {
        q.running = true;
        const queue = q;
        const gen = this.generation;
        // setImmediate: the API handler that emitted answers first.
        setImmediate(() => void this.run(subId, queue, gen));
      }
    });
  }

  private async run(subId: string, q: SubQueue, gen: number): Promise<void> {
    while (q.jobs.length > 0 && !this.stopped(gen)) {
      const job = q.jobs.shift()!;
      try {
        await this.deliver(subId, job.event, gen);
      } finally {
        job.done();
        this.settle();
      }
    }
    q.running = false;
  }

  private async deliver(subId: string, e: StoredEvent, gen: number): Promise<void> {
    const { maxAttempts, retryBaseMs, timeoutMs, signatureHeader } = this.deps.opts;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      if (this.stopped(gen)) return;
      const sub = this.deps.subscriptions().find((s) => s.id === subId);
      if (!sub || !sub.active) return;
      const headers: Record<string, string> = {
        "Content-Type": "application/json",
        "User-Agent": "ZenFlow-Webhooks/1.0",
        "X-ZenFlow-Event": e.spelled,
        "X-ZenFlow-Delivery": e.id,
        [signatureHeader]: sign(sub.secret, e.body),
      };
      const at = this.deps.now();
      const t0 = performance.now();
      let status: number | null = null;
      let error: string | undefined;
      try {
        status = (await httpPost(sub.url, e.body, headers, timeoutMs, this.inflight)).status;
      } catch (err) {
        error = err instanceof Error ? err.message : String(err);
      }
      if (this.stopped(gen)) return;
      const entry: DeliveryLogEntry = {
        eventId: e.id,
        event: e.spelled,
        webhookId: sub.id,
        url: sub.url,
        attempt,
        status,
        at,
        durationMs: Math.round(performance.now() - t0),
      };
      if (error !== undefined) entry.error = error;
      else if (status !== null && (status < 200 || status >= 300)) entry.error = `HTTP ${status}`;
      this.deps.log(entry);
      if (status !== null && status >= 200 && status < 300) return;
      if (attempt < maxAttempts) await this.sleep(retryBaseMs * 2 ** (attempt - 1));
    }
  }

  private stopped(gen: number): boolean {
    return this.closed || gen !== this.generation;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const s: Sleep = {
        timer: setTimeout(() => {
          this.sleeps.delete(s);
          resolve();
        }, ms),
        resolve,
      };
      this.sleeps.add(s);
    });
  }

  private abortAll(): void {
    for (const s of this.sleeps) {
      clearTimeout(s.timer);
      s.resolve();
    }
    this.sleeps.clear();
    for (const req of this.inflight) req.destroy(new Error("sandbox closed"));
    this.inflight.clear();
    // Queued jobs are dropped; their emit() promises resolve so nobody waits forever.
    for (const q of this.queues.values()) {
      for (const job of q.jobs.splice(0)) {
        job.done();
        this.settle();
      }
    }
    this.queues = new Map();
  }

  private settle(): void {
    this.pending--;
    if (this.pending <= 0) {
      this.pending = 0;
      for (const w of this.idleWaiters.splice(0)) w();
    }
  }
}
