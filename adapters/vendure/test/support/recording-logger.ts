// A VendureLogger that keeps every line, so tests can read what the plugin logged (and check
// that no secret ever appears). Errors are also printed, to make failures readable.
import type { VendureLogger } from "@vendure/core";

export class RecordingVendureLogger implements VendureLogger {
  readonly lines: { level: string; message: string; context?: string }[] = [];

  private add(level: string, message: string, context?: string): void {
    this.lines.push({ level, message, context });
    if (level === "error" && process.env.LOG) console.error(`[${context ?? "vendure"}] ${message}`);
  }

  error(message: string, context?: string): void {
    this.add("error", message, context);
  }
  warn(message: string, context?: string): void {
    this.add("warn", message, context);
  }
  info(message: string, context?: string): void {
    this.add("info", message, context);
  }
  verbose(message: string, context?: string): void {
    this.add("verbose", message, context);
  }
  debug(message: string, context?: string): void {
    this.add("debug", message, context);
  }

  text(): string {
    return this.lines.map((l) => `${l.level} ${l.context ?? ""} ${l.message}`).join("\n");
  }
}
