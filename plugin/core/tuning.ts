// Timing knobs that are not admin settings (they are operations' business, and tests need
// them shorter): leases, ticks, polls, debounce. Read from ZENFLOW_TUNING (JSON) by the
// module the host loads; anything malformed is ignored with a warning, never a failure.
import { z } from "zod";
import type { BackoffPolicy } from "./backoff";

export interface EngineTuning {
  pollMs: number;
  leaseMs: number;
  schedulerTickMs: number;
  schedulerLeaseMs: number;
  boundaryGuardMs: number;
  backoff?: BackoffPolicy;
  /** Start the worker and scheduler loops (tests may drive runOnce themselves). */
  autoStart: boolean;
  /** Per job kind: wait before a new job is due, so bursts of edits coalesce (orders: none). */
  debounceMs: Record<string, number>;
  /** How many of the host's pool connections the plugin may hold at once; 0: a quarter of the pool (db-share.ts). */
  dbConnections: number;
  /** MySQL/MariaDB: a plugin statement outside a transaction is cancelled after this long. */
  statementTimeoutMs: number;
  /** A ctx.erp call that has not answered after this long fails as unavailable (its job is retried). */
  erpCallTimeoutMs: number;
  /**
   * Failures that do not use up an attempt (rate-limit pauses, a rejected key, contention,
   * shutdown) after which a job becomes a dead letter anyway: nothing retries forever.
   */
  maxDeferrals: number;
}

const tuningSchema = z
  .object({
    pollMs: z.number().int().min(10).max(60_000),
    leaseMs: z.number().int().min(1000).max(3_600_000),
    schedulerTickMs: z.number().int().min(50).max(600_000),
    schedulerLeaseMs: z.number().int().min(500).max(3_600_000),
    boundaryGuardMs: z.number().int().min(0).max(5000),
    debounceMs: z.record(z.string(), z.number().int().min(0).max(60_000)),
    dbConnections: z.number().int().min(0).max(100),
    statementTimeoutMs: z.number().int().min(100).max(600_000),
    erpCallTimeoutMs: z.number().int().min(100).max(600_000),
    maxDeferrals: z.number().int().min(1).max(1_000_000),
  })
  .partial()
  .strict();

export function tuningFromEnv(raw: string | undefined): { tuning: Partial<EngineTuning>; warning: string | null } {
  if (!raw) return { tuning: {}, warning: null };
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { tuning: {}, warning: "ZENFLOW_TUNING is not valid JSON; using the default timings" };
  }
  const r = tuningSchema.safeParse(json);
  if (!r.success)
    return { tuning: {}, warning: `ZENFLOW_TUNING ignored: ${r.error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; ")}` };
  return { tuning: r.data as Partial<EngineTuning>, warning: null };
}
