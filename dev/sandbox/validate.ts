// Small input checks shared by the route handlers.
import { ApiError, fieldError, validationError, type FieldError } from "./errors";
import { isValidDate } from "./time";

export interface Paging {
  page: number;
  limit: number;
}

const MAX_LIMIT = 100;
const DEFAULT_LIMIT = 50;

function single(v: unknown): string | undefined | null {
  if (v === undefined) return undefined;
  return typeof v === "string" ? v : null; // null: repeated or nested param
}

/** page/limit (docs §3.2): limit over 100 is clamped to 100 (not documented); below 1 is refused. */
export function parsePaging(query: Record<string, unknown>, errors: FieldError[]): Paging {
  let page = 1;
  let limit = DEFAULT_LIMIT;
  const p = single(query.page);
  if (p !== undefined) {
    if (p === null || !/^\d+$/.test(p) || Number(p) < 1)
      errors.push({ field: "page", message: "Must be an integer greater than or equal to 1" });
    else page = Number(p);
  }
  const l = single(query.limit);
  if (l !== undefined) {
    if (l === null || !/^-?\d+$/.test(l) || Number(l) < 1)
      errors.push({ field: "limit", message: "Must be an integer greater than or equal to 1" });
    else limit = Math.min(MAX_LIMIT, Number(l));
  }
  return { page, limit };
}

export function paginate<T>(
  items: T[],
  { page, limit }: Paging,
): { slice: T[]; pagination: { total: number; page: number; limit: number; total_pages: number } } {
  const total = items.length;
  return {
    slice: items.slice((page - 1) * limit, page * limit),
    pagination: { total, page, limit, total_pages: Math.ceil(total / limit) },
  };
}

export function queryDate(query: Record<string, unknown>, name: string, errors: FieldError[]): string | undefined {
  const v = single(query[name]);
  if (v === undefined) return undefined;
  if (v === null || !isValidDate(v)) {
    errors.push({ field: name, message: "Must be a valid date in YYYY-MM-DD format" });
    return undefined;
  }
  return v;
}

export function queryString(query: Record<string, unknown>, name: string, errors: FieldError[]): string | undefined {
  const v = single(query[name]);
  if (v === null) {
    errors.push({ field: name, message: "Must be given once" });
    return undefined;
  }
  return v;
}

export function queryInt(query: Record<string, unknown>, name: string, errors: FieldError[]): number | undefined {
  const v = single(query[name]);
  if (v === undefined) return undefined;
  if (v === null || !/^\d+$/.test(v)) {
    errors.push({ field: name, message: "Must be an integer" });
    return undefined;
  }
  return Number(v);
}

export function queryBool(query: Record<string, unknown>, name: string): boolean {
  const v = single(query[name]);
  return v === "true" || v === "1";
}

export function throwIfQueryErrors(errors: FieldError[]): void {
  if (errors.length > 0) throw validationError("Invalid query parameters", errors);
}

/** Path ids documented as integers; anything else is 400 invalid_id. */
export function parseIntegerId(raw: string, what: "Order" | "Product"): number {
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(Number(raw))) throw new ApiError(400, "invalid_id", `${what} ID must be a valid integer`);
  return Number(raw);
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function requireObjectBody(body: unknown): Record<string, unknown> {
  if (body === undefined) return {};
  if (!isPlainObject(body)) throw fieldError("body", "Request body must be a JSON object");
  return body;
}

export function isFiniteNumber(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v);
}

export function isNonEmptyString(v: unknown): v is string {
  return typeof v === "string" && v.trim().length > 0;
}

/** Optional string field: absent/null or a string. */
export function optionalString(v: unknown): v is string | null | undefined {
  return v === undefined || v === null || typeof v === "string";
}
