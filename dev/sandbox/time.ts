// Date/time helpers. The docs show timestamps as ISO-8601 UTC without milliseconds
// ("2024-01-14T10:30:00Z") and dates as YYYY-MM-DD strings.

export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** A real calendar date written exactly as YYYY-MM-DD (2024-02-30 is rejected). */
export function isValidDate(value: unknown): value is string {
  if (typeof value !== "string" || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const y = Number(value.slice(0, 4));
  const m = Number(value.slice(5, 7));
  const d = Number(value.slice(8, 10));
  const dt = new Date(Date.UTC(y, m - 1, d));
  return dt.getUTCFullYear() === y && dt.getUTCMonth() === m - 1 && dt.getUTCDate() === d;
}

/** The UTC date part of a stored ISO timestamp (date filters compare on this). */
export function datePart(iso: string): string {
  return iso.slice(0, 10);
}
