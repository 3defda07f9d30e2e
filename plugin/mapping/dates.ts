// Date-only values stay strings end to end: a `shipByDate` of 2026-03-01 must reach
// ZenFlow as 2026-03-01 whatever the process time zone. Never route them through Date
// except to check that the day exists (in UTC, where no offset can move it).
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

export function isCalendarDate(s: unknown): s is string {
  if (typeof s !== "string") return false;
  const m = DATE_RE.exec(s);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const t = new Date(Date.UTC(y, mo - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d;
}

/** The calendar date an ISO timestamp names in its own offset ("2026-03-01T22:00:00-03:00" → 2026-03-01). */
export function dateAsWritten(isoTimestamp: string): string | null {
  const head = isoTimestamp.slice(0, 10);
  return isCalendarDate(head) ? head : null;
}
