// Runs inside the host's event handler: appends the change to zenflow_event_log (one
// single-row insert) and returns; dedupe and coalescing happen later, in the worker.
// It never throws into the host. If the database refuses the write, the job is kept in
// memory and written again shortly; the reconciliation is the last line of defence.
import { describeError } from "../core/errors";
import type { EventMeta, PluginLogger } from "../core/host-api";
import type { EventLog } from "./event-log";
import type { JobInput, JobRecorder } from "../jobs/job";
import { boundedId } from "../jobs/keys";

export interface EventRecorderDeps {
  log: EventLog;
  logger: PluginLogger;
  /** Called after a job was written (wakes the local worker). */
  onRecorded?: () => void;
  maxBuffered?: number;
}

interface Buffered {
  eventId: string | null;
  job: JobInput;
}

export class EventRecorder implements JobRecorder {
  private readonly buffer: Buffered[] = [];
  private flushTimer: NodeJS.Timeout | null = null;
  onRecorded: (() => void) | undefined;
  dropped = 0;

  constructor(private readonly deps: EventRecorderDeps) {
    this.onRecorded = deps.onRecorded;
  }

  async record(meta: EventMeta | undefined, job: JobInput): Promise<void> {
    const eventId = typeof meta?.eventId === "string" && meta.eventId ? boundedId(meta.eventId, 128) : null;
    try {
      await this.deps.log.append(job, eventId);
      this.onRecorded?.();
    } catch (err) {
      this.keep({ eventId, job }, err);
    }
  }

  private keep(item: Buffered, err: unknown): void {
    const max = this.deps.maxBuffered ?? 10_000;
    if (this.buffer.length >= max) {
      this.dropped++;
      this.deps.logger.error(
        { kind: item.job.kind, erpRef: item.job.erpRef, err: describeError(err) },
        "outbox write failed and the in-memory buffer is full; the reconciliation will recover this change",
      );
      return;
    }
    this.buffer.push(item);
    this.deps.logger.error(
      { kind: item.job.kind, erpRef: item.job.erpRef, buffered: this.buffer.length, err: describeError(err) },
      "outbox write failed; kept in memory and retried",
    );
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = null;
      void this.flush().then((left) => {
        if (left) this.scheduleFlush();
      });
    }, 1000);
    this.flushTimer.unref();
  }

  /** Writes buffered jobs; returns how many are still waiting. */
  async flush(): Promise<number> {
    while (this.buffer.length) {
      const item = this.buffer[0]!;
      try {
        await this.deps.log.append(item.job, item.eventId);
      } catch {
        return this.buffer.length;
      }
      this.buffer.shift();
    }
    this.onRecorded?.();
    return 0;
  }

  pending(): number {
    return this.buffer.length;
  }

  stop(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
  }
}
