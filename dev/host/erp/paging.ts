// Keyset pagination shared by the list operations. Cursors are opaque to plugins
// (base64url JSON) and carry the sort key of the last row returned, so a page boundary
// stays correct while rows are inserted or updated concurrently.
import { erpError } from "./errors";

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;

export function clampLimit(limit: unknown): number {
  if (limit === undefined || limit === null) return DEFAULT_LIMIT;
  if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 1) {
    throw erpError("invalid", `limit must be a positive integer, got ${JSON.stringify(limit)}`);
  }
  return Math.min(limit, MAX_LIMIT);
}

export function encodeCursor(key: Record<string, string>): string {
  return Buffer.from(JSON.stringify(key), "utf8").toString("base64url");
}

/** Decodes a cursor made by encodeCursor with exactly the given string fields. */
export function decodeCursor<K extends string>(cursor: unknown, fields: readonly K[]): Record<K, string> | null {
  if (cursor === undefined || cursor === null || cursor === "") return null;
  if (typeof cursor !== "string") throw erpError("invalid", "cursor must be a string");
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw erpError("invalid", "malformed cursor");
  }
  if (typeof parsed !== "object" || parsed === null) throw erpError("invalid", "malformed cursor");
  const out = {} as Record<K, string>;
  for (const f of fields) {
    const v = (parsed as Record<string, unknown>)[f];
    if (typeof v !== "string") throw erpError("invalid", "malformed cursor");
    out[f] = v;
  }
  return out;
}

/** `updatedSince` may come with any offset or without ms; stored stamps are UTC with ms, compared as strings. */
export function normaliseTimestamp(value: unknown, field: string): string | null {
  if (value === undefined || value === null || value === "") return null;
  if (typeof value !== "string") throw erpError("invalid", `${field} must be an ISO-8601 string`);
  const t = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(t)) throw erpError("invalid", `${field} is not an ISO-8601 timestamp: ${value}`);
  return new Date(t).toISOString();
}
