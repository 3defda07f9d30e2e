// Loggers: pino by default, or any pino-style logger a caller passes (tests record entries).
import pino from "pino";
import type { PluginLogger } from "../../plugin/core/host-api";

type Level = keyof PluginLogger;
const LEVELS: Level[] = ["debug", "info", "warn", "error"];

export function defaultLogger(processName?: string): PluginLogger {
  return pino({ level: process.env.LOG_LEVEL ?? "info", base: { pid: process.pid, ...(processName ? { process: processName } : {}) } });
}

/** A child with fixed fields: pino's own child() when there is one, otherwise a wrapper. */
export function childLogger(base: PluginLogger, bindings: Record<string, unknown>): PluginLogger {
  const withChild = base as PluginLogger & { child?: (b: Record<string, unknown>) => PluginLogger };
  if (typeof withChild.child === "function") return withChild.child(bindings);
  const out = {} as PluginLogger;
  for (const level of LEVELS) {
    out[level] = (obj, msg) => {
      if (typeof obj === "string") base[level]({ ...bindings }, obj);
      else base[level]({ ...bindings, ...obj }, msg);
    };
  }
  return out;
}
