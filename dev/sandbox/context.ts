// Everything a handler needs, passed explicitly instead of module globals so several
// sandboxes can run in one process.
import type { FaultInjector } from "./faults";
import type { KeyRing } from "./keys";
import type { RateLimiter } from "./rate-limit";
import type { RequestLog } from "./request-log";
import type { SandboxState } from "./state";
import type { DeliveryLogEntry, RateLimits, SandboxKey } from "./types";
import type { ResolvedWebhookOptions, WebhookDispatcher } from "./webhook-delivery";

export interface ResolvedOptions {
  port: number;
  host: string;
  keys: SandboxKey[];
  limits: RateLimits;
  now: () => number;
  locations: string[];
  strictBarcodes: boolean;
  maxBatch: number;
  webhook: ResolvedWebhookOptions;
  retryAfterGraceMs: number;
  seed: number;
}

export interface SandboxContext {
  readonly opts: ResolvedOptions;
  now(): number;
  /** Replaced wholesale by reset(); always read through the context. */
  state: SandboxState;
  readonly keys: KeyRing;
  readonly limiter: RateLimiter;
  readonly faults: FaultInjector;
  readonly requestLog: RequestLog;
  deliveries: DeliveryLogEntry[];
  readonly dispatcher: WebhookDispatcher;
  /** Added to every API request (setLatency). */
  latencyMs: number;
  closed: boolean;
  /** Timers of hanging/delayed requests, cleared by close(). */
  readonly timers: Set<NodeJS.Timeout>;
  /** Fire-and-forget webhook emission from handlers. */
  emit(event: string, data: Record<string, unknown>): void;
}
