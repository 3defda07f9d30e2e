// Errors thrown by the ERP carry the string `code` of the contract (section 6), so that a
// plugin can tell "the order does not exist" from "the database is down".
import type { ErpErrorCode } from "../../../plugin/core/host-api";

export interface ErpError extends Error {
  code: ErpErrorCode;
}

export function erpError(code: ErpErrorCode, message: string, cause?: unknown): ErpError {
  const err = new Error(message, cause === undefined ? undefined : { cause }) as ErpError;
  err.code = code;
  err.name = "ErpError";
  return err;
}

const ERP_CODES = new Set<string>(["not_found", "invalid", "conflict", "unavailable"]);

export function isErpError(err: unknown): err is ErpError {
  return err instanceof Error && typeof (err as { code?: unknown }).code === "string" && ERP_CODES.has((err as ErpError).code);
}

export function isUniqueViolation(err: unknown): boolean {
  const code = String((err as { code?: unknown })?.code ?? "");
  return code === "ER_DUP_ENTRY" || code.startsWith("SQLITE_CONSTRAINT_UNIQUE") || code === "SQLITE_CONSTRAINT_PRIMARYKEY";
}

/** Busy/deadlock errors worth retrying the whole transaction for. */
export function isTransientDbError(err: unknown): boolean {
  const code = String((err as { code?: unknown })?.code ?? "");
  return code === "SQLITE_BUSY" || code === "SQLITE_BUSY_SNAPSHOT" || code === "ER_LOCK_DEADLOCK" || code === "ER_LOCK_WAIT_TIMEOUT";
}

/** The driver's own message, without the SQL statement (and its values) that knex prepends. */
function driverMessage(err: unknown): string {
  const sqlMessage = (err as { sqlMessage?: unknown } | null)?.sqlMessage;
  if (typeof sqlMessage === "string") return sqlMessage;
  const msg = err instanceof Error ? err.message : String(err);
  const cut = msg.lastIndexOf(" - ");
  return cut >= 0 ? msg.slice(cut + 3) : msg;
}

/** Anything that is not already an ERP error came from the database: `unavailable` (or `conflict` for a duplicate key). */
export function toErpError(err: unknown): ErpError {
  if (isErpError(err)) return err;
  const msg = driverMessage(err);
  if (isUniqueViolation(err)) return erpError("conflict", `duplicate key: ${msg}`, err);
  return erpError("unavailable", `database unavailable: ${msg}`, err);
}
