// The allowed logger double: records every line so tests can assert what was (and was not) logged.
import type { PluginLogger } from "../../plugin/core/host-api";

export interface LogLine {
  level: "debug" | "info" | "warn" | "error";
  obj: unknown;
  msg?: string;
  text: string;
}

export interface RecordingLogger extends PluginLogger {
  lines: LogLine[];
  /** Every line as text, for "this secret never appears" checks. */
  dump(): string;
  child?(bindings: object): RecordingLogger;
}

export function recordingLogger(echo = !!process.env.ZENFLOW_TEST_LOG): RecordingLogger {
  const lines: LogLine[] = [];
  const make = (level: LogLine["level"]) => (obj: object | string, msg?: string) => {
    let text: string;
    try {
      text = typeof obj === "string" ? obj : `${JSON.stringify(obj)} ${msg ?? ""}`;
    } catch {
      text = String(msg ?? obj);
    }
    lines.push({ level, obj, msg, text });
    if (echo) console.error(`[${level}] ${text}`);
  };
  const logger: RecordingLogger = {
    lines,
    debug: make("debug"),
    info: make("info"),
    warn: make("warn"),
    error: make("error"),
    dump: () => lines.map((l) => l.text).join("\n"),
  };
  return logger;
}
