// CSRF protection for the dashboard's buttons. The host authenticates admins with a cookie,
// which a browser also sends on a form another site submits; a POST is therefore only
// obeyed with a token that this process issued for that very form action, recently.
// The same key signs the flash message shown after a redirect, so a crafted link cannot
// make the dashboard display text of an attacker's choosing.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

export interface Signer {
  /** A token for a form that POSTs to `action` (e.g. "/retry"). */
  token(action: string): string;
  /** True when `token` was issued by this signer for `action` and has not expired. */
  verify(action: string, token: unknown): boolean;
  sign(text: string): string;
  check(text: string, signature: unknown): boolean;
}

export interface SignerOptions {
  /** Default: 32 random bytes, so tokens are valid in this process only and die with it. */
  key?: Buffer;
  now?: () => number;
  /** How long a rendered dashboard's buttons keep working; default 12 h. */
  ttlMs?: number;
}

export function createSigner(opts: SignerOptions = {}): Signer {
  const key = opts.key ?? randomBytes(32);
  const now = opts.now ?? Date.now;
  const ttlMs = opts.ttlMs ?? 12 * 3_600_000;
  const mac = (text: string) => createHmac("sha256", key).update(text).digest("base64url");
  const same = (a: string, b: string) => {
    const x = Buffer.from(a);
    const y = Buffer.from(b);
    return x.length === y.length && timingSafeEqual(x, y);
  };
  return {
    token(action) {
      const issued = now().toString(36);
      return `${issued}.${mac(`csrf\n${action}\n${issued}`)}`;
    },
    verify(action, token) {
      if (typeof token !== "string" || token.length > 200) return false;
      const dot = token.indexOf(".");
      if (dot <= 0) return false;
      const issuedText = token.slice(0, dot);
      const issued = parseInt(issuedText, 36);
      if (!Number.isFinite(issued)) return false;
      const t = now();
      // A small allowance for clocks moving backwards; none for tokens from the far future.
      if (issued > t + 60_000 || t - issued > ttlMs) return false;
      return same(token.slice(dot + 1), mac(`csrf\n${action}\n${issuedText}`));
    },
    sign: (text) => mac(`flash\n${text}`),
    check: (text, signature) => typeof signature === "string" && same(signature, mac(`flash\n${text}`)),
  };
}
