// ctx.log for the plugin: the contract's pino-style calls `(obj | string, msg?)` written
// through Vendure's Logger, so the plugin's lines land wherever the shop sends its logs.
import { Logger } from "@vendure/core";
import type { PluginLogger } from "zenflow-erp-plugin/host-api";

export const LOG_CONTEXT = "ZenflowPlugin";

type Level = "debug" | "info" | "warn" | "error";

function describe(value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message, code: (value as { code?: unknown }).code };
  return value;
}

/** One line: the message, then the fields as JSON (errors reduced to name, message and code). */
export function formatLine(objOrMsg: object | string, msg?: string): string {
  if (typeof objOrMsg === "string") return msg ? `${objOrMsg} ${msg}` : objOrMsg;
  const fields = Object.fromEntries(Object.entries(objOrMsg).map(([k, v]) => [k, describe(v)]));
  const json = Object.keys(fields).length ? ` ${JSON.stringify(fields)}` : "";
  return `${msg ?? ""}${json}`.trim();
}

export function vendureLogger(context = LOG_CONTEXT): PluginLogger {
  const write = (level: Level) => (objOrMsg: object | string, msg?: string) => {
    const line = formatLine(objOrMsg, msg);
    if (level === "error") Logger.error(line, context);
    else if (level === "warn") Logger.warn(line, context);
    else if (level === "info") Logger.info(line, context);
    else Logger.debug(line, context);
  };
  return { debug: write("debug"), info: write("info"), warn: write("warn"), error: write("error") };
}
