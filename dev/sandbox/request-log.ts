// Log of every /api/v1 request, so tests and benchmarks can assert what the
// client actually sent (and which faults it met).
import type { RequestLogEntry } from "./types";

export class RequestLog {
  private entries: RequestLogEntry[] = [];
  private seq = 0;

  start(e: Omit<RequestLogEntry, "seq" | "status" | "durationMs">): RequestLogEntry {
    const entry: RequestLogEntry = { seq: ++this.seq, ...e, status: null, durationMs: 0 };
    this.entries.push(entry);
    return entry;
  }

  all(): RequestLogEntry[] {
    return this.entries.map((e) => ({ ...e }));
  }

  since(seq: number): RequestLogEntry[] {
    return this.entries.filter((e) => e.seq > seq).map((e) => ({ ...e }));
  }

  reset(): void {
    this.entries = [];
    this.seq = 0;
  }
}
