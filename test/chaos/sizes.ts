// The two sizes of the chaos run. Times are real: the ERP processes run the production
// plugin from dist/ with its default tuning (60 s outbox lease, 60 s scheduler lease), so a
// SIGKILLed process's claimed jobs come back after a minute, as they would in production.

export interface ChaosSize {
  name: "ci" | "full";
  /** How long ERP changes stream in (and faults are injected). */
  streamMs: number;
  ordersPerSecond: number;
  products: number;
  catalogOpsPerSecond: number;
  /** The sandbox's (and the plugin's) per-minute budget: low enough to be the bottleneck part of the time. */
  perMinute: number;
  faultRate: number;
  /** SIGKILL + restart of one ERP process, at these fractions of the stream. */
  killsAt: number[];
  restartAfterMs: number;
  dbDropAt: number;
  dbDropMs: number;
  /** After the stream: how long the system may take to converge. */
  drainTimeoutMs: number;
}

export const SIZES: Record<ChaosSize["name"], ChaosSize> = {
  ci: {
    name: "ci",
    streamMs: 36_000,
    ordersPerSecond: 4,
    products: 30,
    catalogOpsPerSecond: 2,
    perMinute: 100,
    faultRate: 0.2,
    killsAt: [0.2, 0.6],
    restartAfterMs: 1500,
    dbDropAt: 0.4,
    dbDropMs: 4000,
    drainTimeoutMs: 150_000,
  },
  full: {
    name: "full",
    streamMs: 360_000,
    ordersPerSecond: 5,
    products: 200,
    catalogOpsPerSecond: 3,
    perMinute: 180,
    faultRate: 0.2,
    killsAt: [0.3, 0.65],
    restartAfterMs: 3000,
    dbDropAt: 0.45,
    dbDropMs: 5000,
    drainTimeoutMs: 300_000,
  },
};
