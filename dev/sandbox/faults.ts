// Fault injection for resilience tests: deterministic faults queued with failNext
// (consumed in order by matching requests, taking precedence) and probabilistic
// faults driven by a seeded PRNG so a run is reproducible.
import { mulberry32 } from "./rng";
import type { FailNextOptions, FaultConfig, FaultKind } from "./types";

export const FAULT_KINDS: readonly FaultKind[] = ["5xx", "hang", "reset", "reset-after", "429", "latency", "redirect", "huge"];

const DEFAULT_HANG_MS = 30_000;
const DEFAULT_LATENCY_MS = 1_000;
const DEFAULT_RETRY_AFTER_S = 1;

export interface FaultDecision {
  kind: FaultKind;
  hangMs: number;
  latencyMs: number;
  retryAfterSeconds: number;
  /** Status of a "5xx" fault: 500, 502 or 503. */
  status: number;
  /** The queued fault's options (raw headers, redirect target, body size). */
  options: FailNextOptions;
}

interface QueuedFault extends FailNextOptions {
  remaining: number;
  kind: FaultKind;
}

function checkKind(kind: FaultKind): void {
  if (!FAULT_KINDS.includes(kind)) throw new Error(`Unknown fault kind ${String(kind)}`);
}

export class FaultInjector {
  private config: FaultConfig | null = null;
  private queue: QueuedFault[] = [];
  private rng: () => number;

  constructor(private readonly seed: number) {
    this.rng = mulberry32(seed);
  }

  setConfig(c: FaultConfig | null): void {
    if (c) {
      if (typeof c.rate !== "number" || c.rate < 0 || c.rate > 1) throw new Error("Fault rate must be between 0 and 1");
      if (!Array.isArray(c.kinds) || c.kinds.length === 0) throw new Error("Fault kinds must be a non-empty array");
      c.kinds.forEach(checkKind);
    }
    this.config = c ? { ...c, kinds: [...c.kinds] } : null;
  }

  failNext(n: number, kind: FaultKind, opts: FailNextOptions = {}): void {
    checkKind(kind);
    if (!Number.isInteger(n) || n <= 0) return;
    this.queue.push({ ...opts, remaining: n, kind });
  }

  pick(method: string, path: string): FaultDecision | null {
    const queued = this.queue.find((q) => (!q.method || q.method.toUpperCase() === method) && (!q.path || q.path.test(path)));
    if (queued) {
      queued.remaining--;
      if (queued.remaining <= 0) this.queue.splice(this.queue.indexOf(queued), 1);
      // Deterministic faults stay deterministic: a queued 5xx is always a 500.
      return this.decision(queued.kind, queued, 500);
    }
    const c = this.config;
    if (!c || c.rate <= 0 || (c.path && !c.path.test(path))) return null;
    if (this.rng() >= c.rate) return null;
    const kind = c.kinds[Math.min(c.kinds.length - 1, Math.floor(this.rng() * c.kinds.length))]!;
    let status = 500;
    if (kind === "5xx") {
      const r = this.rng();
      status = r < 0.6 ? 500 : r < 0.8 ? 502 : 503;
    }
    return this.decision(kind, {}, status);
  }

  reset(): void {
    this.config = null;
    this.queue = [];
    this.rng = mulberry32(this.seed);
  }

  private decision(kind: FaultKind, o: FailNextOptions, status: number): FaultDecision {
    return {
      kind,
      status,
      hangMs: o.hangMs ?? this.config?.hangMs ?? DEFAULT_HANG_MS,
      latencyMs: o.latencyMs ?? this.config?.latencyMs ?? DEFAULT_LATENCY_MS,
      retryAfterSeconds: o.retryAfterSeconds ?? this.config?.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_S,
      options: o,
    };
  }
}
