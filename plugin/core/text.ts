// Strings from outside (ERP records, ZenFlow answers, webhook bodies) on their way into a
// column, a key, a log line or a terminal. Lengths are counted in code points, which is what
// a MariaDB VARCHAR(n) in utf8mb4 counts, and a cut never splits a surrogate pair.
import { createHash } from "node:crypto";

/** At most `max` code points of `s`; a string that fits comes back unchanged. */
export function clip(s: string, max: number): string {
  if (s.length <= max) return s;
  let out = "";
  let n = 0;
  for (const ch of s) {
    if (n++ >= max) break;
    out += ch;
  }
  return out;
}

/** Code points in `s` (a VARCHAR's length). */
export function codePoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** A fixed-length lowercase hex digest: the same under every collation, never padded. */
export function digest(s: string, hexChars = 32): string {
  return createHash("sha256").update(s, "utf8").digest("hex").slice(0, hexChars);
}

// C0 and C1 controls, DEL, and the Unicode bidi overrides and isolates, which can make a
// terminal line read differently from what it says.
const CONTROL_CLASS = "[\\u0000-\\u001f\\u007f-\\u009f\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069]";
const CONTROL_ALL = new RegExp(CONTROL_CLASS, "g");
const CONTROL_ANY = new RegExp(CONTROL_CLASS);

/** For a terminal or a single log line: every control character becomes a visible "?"; nothing else changes. */
export function printable(s: string): string {
  return s.replace(CONTROL_ALL, "?");
}

/** Each run of control characters as one space (free text sent on: names, addresses). */
export function spaceControls(s: string): string {
  return s.replace(new RegExp(`${CONTROL_CLASS}+`, "g"), " ");
}

/** True when `s` contains a control character (NUL, CR, LF, ESC …). */
export function hasControl(s: string): boolean {
  return CONTROL_ANY.test(s);
}
