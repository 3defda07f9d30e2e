// Webhook signature. The docs do not say how ZenFlow signs deliveries (§8.4), so the
// sandbox uses the common scheme: HMAC-SHA256 over the exact raw body bytes, hex,
// prefixed "sha256=".
import { createHmac, randomBytes } from "node:crypto";

export function sign(secret: string, rawBody: string | Buffer): string {
  return `sha256=${createHmac("sha256", secret).update(rawBody).digest("hex")}`;
}

export function randomHex(bytes: number): string {
  return randomBytes(bytes).toString("hex");
}
