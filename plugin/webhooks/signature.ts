// Webhook signatures (pure). ZenFlow's stored documentation does not say how deliveries are
// signed (zenflow-api.md §8.4). Until it does we verify the common scheme: HMAC-SHA256 over
// the exact raw body bytes, sent as `sha256=<hex>`; the bare hex and base64 forms are also
// accepted. Comparison is constant-time, and it happens before the body is parsed.
import { createHmac, timingSafeEqual } from "node:crypto";

export type SignatureEncoding = "auto" | "hex" | "base64";

/** The header value ZenFlow (and our sandbox) would send: the twin of verify(), for tests. */
export function sign(secret: string, rawBody: Buffer | string): string {
  return `sha256=${createHmac("sha256", secret).update(rawBody).digest("hex")}`;
}

function decodeCandidate(value: string, encoding: SignatureEncoding): Buffer | null {
  const v = value.trim().replace(/^sha256=/i, "");
  if ((encoding === "auto" || encoding === "hex") && /^[0-9a-f]{64}$/i.test(v)) return Buffer.from(v, "hex");
  if ((encoding === "auto" || encoding === "base64") && /^[A-Za-z0-9+/]{43}=?$/.test(v)) {
    const b = Buffer.from(v, "base64");
    return b.length === 32 ? b : null;
  }
  return null;
}

/**
 * True when `header` is a valid signature of `rawBody` under any of `secrets` (the current
 * one and, during a rotation, earlier ones). Every secret is tried so timing does not
 * reveal which one matched.
 */
export function verifySignature(
  rawBody: Buffer,
  header: string | undefined,
  secrets: string[],
  encoding: SignatureEncoding = "auto",
): boolean {
  if (!header || !secrets.length) return false;
  // A header may carry several comma-separated signatures (e.g. during a rotation).
  const candidates = header
    .split(",")
    .map((p) => decodeCandidate(p, encoding))
    .filter((b): b is Buffer => b !== null);
  if (!candidates.length) return false;
  let ok = false;
  for (const secret of secrets) {
    const expected = createHmac("sha256", secret).update(rawBody).digest();
    for (const c of candidates) if (timingSafeEqual(expected, c)) ok = true;
  }
  return ok;
}
