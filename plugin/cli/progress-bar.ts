// The text progress bar on stderr. On a terminal it redraws one line; into a file or a
// pipe (CI logs) it writes a new line only when the progress moved by a step, so logs stay short.
import { age, plural } from "../admin/format";
import { percentOf } from "../admin/queries";
import type { Progress } from "../core/runs";

export interface TextSink {
  write(text: string): void;
  isTTY: boolean;
}

export function progressLine(label: string, p: Progress, width = 30): string {
  const pct = percentOf(p);
  const amount = p.total ? `${p.done}/${p.total}` : `${p.done} done`;
  const eta = p.status === "running" && p.etaMs ? ` · ETA ${age(p.etaMs)}` : "";
  const errors = p.errors ? ` · ${plural(p.errors, "error")}` : "";
  if (pct === null) return `${label} [${"?".repeat(width)}] ${p.status} ${amount}${errors}`;
  const filled = Math.round((pct / 100) * width);
  return `${label} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${String(pct).padStart(3)}% ${amount}${errors}${eta} ${p.status}`;
}

export class ProgressPrinter {
  private last = "";
  private lastStep = -1;
  private drawn = false;

  constructor(private readonly sink: TextSink) {}

  show(label: string, p: Progress): void {
    const line = progressLine(label, p);
    if (line === this.last) return;
    this.last = line;
    if (this.sink.isTTY) {
      this.sink.write(`\r${line}\x1b[K`);
      this.drawn = true;
      return;
    }
    // 5 % steps, or every change of status or count when the total is unknown.
    const pct = percentOf(p);
    const step = pct === null ? p.done : Math.floor(pct / 5);
    const key = step * 10 + ["running", "paused", "done", "failed"].indexOf(p.status);
    if (key === this.lastStep) return;
    this.lastStep = key;
    this.sink.write(`${line}\n`);
  }

  /** A message on its own line (ends the redrawn line first). */
  note(text: string): void {
    this.end();
    this.sink.write(`${text}\n`);
  }

  end(): void {
    if (this.drawn) this.sink.write("\n");
    this.drawn = false;
    this.last = "";
  }
}
