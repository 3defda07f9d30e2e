// How times and amounts are written on the dashboard and the command line. Always UTC,
// said so, so that an admin and the on-call person compare the same clock.

/** The latest instant a Date can hold; a stored value past it would make toISOString() throw. */
const MAX_DATE_MS = 8.64e15;

function writable(ms: number | null | undefined): ms is number {
  return ms !== null && ms !== undefined && Number.isFinite(ms) && ms > 0 && ms <= MAX_DATE_MS;
}

/** "10:42:07 UTC" today, "2026-11-27 10:42 UTC" on another day. */
export function utc(ms: number | null | undefined, now: number): string {
  if (!writable(ms) || !writable(now)) return "—";
  const iso = new Date(ms).toISOString();
  if (iso.slice(0, 10) === new Date(now).toISOString().slice(0, 10)) return `${iso.slice(11, 19)} UTC`;
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

export function isoOrNull(ms: number | null | undefined): string | null {
  return writable(ms) ? new Date(ms).toISOString() : null;
}

/** "45 s", "7 min", "3 h 10 min", "2 d 4 h". */
export function age(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** A single line of at most `max` characters (messages can be long and multi-line). */
export function oneLine(text: string | null | undefined, max = 300): string {
  const t = String(text ?? "")
    .replace(/\s+/g, " ")
    .trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

/** "2026-11-27 10:42:07 UTC", whatever the day (timelines span days). */
export function utcFull(ms: number | null | undefined): string {
  if (!writable(ms)) return "—";
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
}

/** A zone's formatter, or null for a zone that is UTC (then UTC alone is shown) or unknown to Intl. */
export function zoneFormatter(timeZone: string): Intl.DateTimeFormat | null {
  try {
    const f = new Intl.DateTimeFormat("en-CA", {
      timeZone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hourCycle: "h23",
      timeZoneName: "shortOffset",
    });
    const zone = f.resolvedOptions().timeZone;
    return zone === "UTC" || zone === "Etc/UTC" || zone === "Etc/GMT" ? null : f;
  } catch {
    return null;
  }
}

/** "2026-11-27 07:42:07 GMT-3" in the formatter's zone. */
export function zoned(ms: number | null | undefined, f: Intl.DateTimeFormat): string {
  if (!writable(ms)) return "—";
  const p = Object.fromEntries(f.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second} ${p.timeZoneName ?? ""}`.trim();
}
