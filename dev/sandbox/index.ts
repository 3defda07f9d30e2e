// ZenFlow sandbox: a local HTTP server behaving like the ZenFlow public REST API
// (see /work/shared/zenflow-api.md), with controls for tests, demos and chaos runs.
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Socket } from "node:net";
import { buildApp } from "./app";
import type { ResolvedOptions, SandboxContext } from "./context";
import { createControls } from "./controls";
import { FaultInjector } from "./faults";
import { KeyRing } from "./keys";
import { RateLimiter } from "./rate-limit";
import { RequestLog } from "./request-log";
import { SandboxState } from "./state";
import type { Sandbox, SandboxOptions } from "./types";
import { WebhookDispatcher } from "./webhook-delivery";

export * from "./types";
export { sign } from "./signature";
export { EVENT_NAMES } from "./events";
export { FAULT_KINDS } from "./faults";

export const DEFAULT_KEY = "zenflow_test_sandbox";

function resolveOptions(o: SandboxOptions): ResolvedOptions {
  return {
    port: o.port ?? 0,
    host: o.host ?? "127.0.0.1",
    keys: o.keys ?? [{ key: DEFAULT_KEY, scopes: ["admin"] }],
    limits: o.limits ?? { perMinute: 60, perHour: 1000, perDay: 10000 },
    now: o.now ?? Date.now,
    locations: o.locations ?? ["LOC-A1", "LOC-A2", "LOC-B1"],
    strictBarcodes: o.strictBarcodes ?? false,
    maxBatch: o.maxBatch ?? 100,
    webhook: {
      signatureHeader: o.webhook?.signatureHeader ?? "X-ZenFlow-Signature",
      timeoutMs: o.webhook?.timeoutMs ?? 10_000,
      maxAttempts: o.webhook?.maxAttempts ?? 5,
      retryBaseMs: o.webhook?.retryBaseMs ?? 1_000,
      eventSpelling: o.webhook?.eventSpelling ?? "slash",
    },
    retryAfterGraceMs: o.retryAfterGraceMs ?? 50,
    seed: o.seed ?? Math.floor(Math.random() * 2 ** 32),
  };
}

function createContext(opts: ResolvedOptions): SandboxContext {
  const keys = new KeyRing();
  for (const k of opts.keys) keys.add(k);
  const limiter = new RateLimiter(opts.limits, opts.retryAfterGraceMs);
  limiter.setLimits(opts.limits);
  const ctx: SandboxContext = {
    opts,
    now: opts.now,
    state: new SandboxState(),
    keys,
    limiter,
    faults: new FaultInjector(opts.seed),
    requestLog: new RequestLog(),
    deliveries: [],
    dispatcher: new WebhookDispatcher({
      now: opts.now,
      opts: opts.webhook,
      subscriptions: () => ctx.state.webhooks,
      log: (e) => ctx.deliveries.push(e),
    }),
    latencyMs: 0,
    closed: false,
    timers: new Set(),
    emit: (event, data) => void ctx.dispatcher.emit(event, data),
  };
  return ctx;
}

function listen(server: http.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const opts = resolveOptions(options);
  const ctx = createContext(opts);
  const controls = createControls(ctx);
  const server = http.createServer(buildApp(ctx, controls));
  // Tracked so close() can drop keep-alive and hanging connections at once.
  const sockets = new Set<Socket>();
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await listen(server, opts.port, opts.host);
  const port = (server.address() as AddressInfo).port;
  const hostInUrl = opts.host.includes(":") ? `[${opts.host}]` : opts.host;
  const origin = `http://${hostInUrl}:${port}`;

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      ctx.closed = true;
      ctx.dispatcher.close();
      for (const t of ctx.timers) clearTimeout(t);
      ctx.timers.clear();
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
    });
    return closing;
  };

  return { url: `${origin}/api/v1`, origin, port, close, ...controls };
}
