// Timings of plugin event handlers, per event name, so that a slow hook (the contract asks
// for < 5 ms at p99) shows up in GET /erp/event-stats and in tests.
const WINDOW = 10_000;

export interface EventStat {
  name: string;
  count: number;
  p50Ms: number;
  p99Ms: number;
  slow: number;
  errors: number;
}

interface Series {
  count: number;
  slow: number;
  errors: number;
  // Ring buffer of the most recent durations: percentiles describe current behaviour and memory stays bounded.
  recent: number[];
  next: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return Math.round((sorted[rank] ?? 0) * 1000) / 1000;
}

export class EventStats {
  private readonly series = new Map<string, Series>();

  constructor(private readonly slowMs: number) {}

  record(name: string, ms: number, failed: boolean): void {
    let s = this.series.get(name);
    if (!s) {
      s = { count: 0, slow: 0, errors: 0, recent: [], next: 0 };
      this.series.set(name, s);
    }
    s.count++;
    if (ms > this.slowMs) s.slow++;
    if (failed) s.errors++;
    if (s.recent.length < WINDOW) s.recent.push(ms);
    else s.recent[s.next] = ms;
    s.next = (s.next + 1) % WINDOW;
  }

  snapshot(): EventStat[] {
    return [...this.series.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, s]) => {
        const sorted = [...s.recent].sort((a, b) => a - b);
        return { name, count: s.count, p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99), slow: s.slow, errors: s.errors };
      });
  }
}
