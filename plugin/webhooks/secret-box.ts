// Encryption at rest for the webhook secret ZenFlow hands us once. The key is derived from
// the API key (which the host already stores encrypted): without the API key the stored
// secret is useless, and a new API key means a new subscription anyway.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";

function keyFrom(apiKey: string): Buffer {
  return Buffer.from(hkdfSync("sha256", apiKey, "zenflow-plugin", "webhook-secret-v1", 32));
}

export function seal(apiKey: string, plain: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", keyFrom(apiKey), iv);
  const body = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
  return `v1:${iv.toString("base64")}:${cipher.getAuthTag().toString("base64")}:${body.toString("base64")}`;
}

/** The secret, or null when it was sealed under another API key (or tampered with). */
export function open(apiKey: string, sealed: string): string | null {
  const [v, iv, tag, body] = sealed.split(":");
  if (v !== "v1" || !iv || !tag || !body) return null;
  try {
    const decipher = createDecipheriv("aes-256-gcm", keyFrom(apiKey), Buffer.from(iv, "base64"));
    decipher.setAuthTag(Buffer.from(tag, "base64"));
    return Buffer.concat([decipher.update(Buffer.from(body, "base64")), decipher.final()]).toString("utf8");
  } catch {
    return null;
  }
}
