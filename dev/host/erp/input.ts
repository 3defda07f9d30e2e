// Shape checks for ERP writes. The ERP deliberately checks only types (not content): an order
// with no lines or a malformed ship-by date is stored as typed, because real ERPs hold such
// orders and a plugin has to cope with them.
import { erpError } from "./errors";

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function requireObject(v: unknown, field: string): Record<string, unknown> {
  if (!isPlainObject(v)) throw erpError("invalid", `${field} must be an object`);
  return v;
}

export function requireString(v: unknown, field: string): string {
  if (typeof v !== "string") throw erpError("invalid", `${field} must be a string`);
  return v;
}

export function requireNonEmptyString(v: unknown, field: string): string {
  if (typeof v !== "string" || v.trim() === "") throw erpError("invalid", `${field} must be a non-empty string`);
  return v;
}

export function optionalString(v: unknown, field: string): string | null | undefined {
  if (v === undefined) return undefined;
  if (v === null) return null;
  return requireString(v, field);
}

export function requireObjectArray(v: unknown, field: string): Record<string, unknown>[] {
  if (!Array.isArray(v) || !v.every(isPlainObject)) throw erpError("invalid", `${field} must be an array of objects`);
  return v as Record<string, unknown>[];
}

export function optionalNumber(v: unknown, field: string): number | null | undefined {
  if (v === undefined) return undefined;
  if (v === null) return null;
  if (typeof v !== "number" || !Number.isFinite(v)) throw erpError("invalid", `${field} must be a finite number`);
  return v;
}

export function optionalBoolean(v: unknown, field: string): boolean | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "boolean") throw erpError("invalid", `${field} must be a boolean`);
  return v;
}

export function requireIsoTimestamp(v: unknown, field: string): string {
  const s = requireString(v, field);
  const t = Date.parse(s);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(s) || Number.isNaN(t)) throw erpError("invalid", `${field} must be an ISO-8601 timestamp`);
  return new Date(t).toISOString();
}

export function nowIso(): string {
  return new Date().toISOString();
}
