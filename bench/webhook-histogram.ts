// The webhook endpoint's own duration histogram (zenflow_webhook_duration_seconds), read by the
// webhook benchmarks: cumulative bucket counts, and a percentile between two snapshots.
import type { Stack } from "../test/support/stack";

export type Buckets = { le: number; count: number }[];

/** Cumulative bucket counts of the endpoint's own duration histogram. */
export async function endpointBuckets(stack: Stack): Promise<Buckets> {
  const h = await stack.main.plugin.runtime()!.parts.metrics.webhookLatency.get();
  return h.values
    .filter((v) => v.metricName === "zenflow_webhook_duration_seconds_bucket")
    .map((v) => ({ le: Number(v.labels.le), count: v.value }));
}

/** Upper bound (ms) of the bucket that holds percentile p of the requests between two snapshots. */
export function bucketPercentile(before: Buckets, after: Buckets, p: number): number {
  const diff = after.map((b, i) => ({ le: b.le, count: b.count - (before[i]?.count ?? 0) }));
  const total = diff.at(-1)?.count ?? 0;
  const target = Math.ceil((p / 100) * total);
  return (diff.find((b) => b.count >= target)?.le ?? Infinity) * 1000;
}
