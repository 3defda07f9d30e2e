// Encryption at rest for writeOnly settings (AES-256-GCM). Every Vendure process (server and
// worker) must derive the same key: from `secretKey`, ZENFLOW_SECRET_KEY, or else a random key
// the first process stores in the database (which protects exports of the settings row, not
// a copy of the whole database: set ZENFLOW_SECRET_KEY for that).
import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from "node:crypto";

const PREFIX = "v1.";
const derived = new Map<string, Buffer>();

export interface SecretBox {
  /** `aad` binds the ciphertext to its property, so stored values cannot be swapped. */
  seal(value: unknown, aad: string): string;
  open(token: string, aad: string): unknown;
}

export function createSecretBox(passphrase: string): SecretBox {
  let key = derived.get(passphrase);
  if (!key) {
    // scrypt is slow on purpose (~40 ms): derive once per passphrase and process.
    key = scryptSync(passphrase, "zenflow-vendure-config-v1", 32);
    derived.set(passphrase, key);
  }
  const aesKey = key;
  return {
    seal(value, aad) {
      const iv = randomBytes(12);
      const c = createCipheriv("aes-256-gcm", aesKey, iv);
      c.setAAD(Buffer.from(aad, "utf8"));
      const body = Buffer.concat([c.update(JSON.stringify(value), "utf8"), c.final()]);
      return PREFIX + [iv, c.getAuthTag(), body].map((b) => b.toString("base64url")).join(".");
    },
    open(token, aad) {
      if (!token.startsWith(PREFIX)) throw new Error("unknown secret format");
      const [iv, tag, body] = token
        .slice(PREFIX.length)
        .split(".")
        .map((s) => Buffer.from(s, "base64url"));
      if (!iv || !tag || !body) throw new Error("malformed secret");
      const d = createDecipheriv("aes-256-gcm", aesKey, iv);
      d.setAAD(Buffer.from(aad, "utf8"));
      d.setAuthTag(tag);
      return JSON.parse(Buffer.concat([d.update(body), d.final()]).toString("utf8")) as unknown;
    },
  };
}

export function newPassphrase(): string {
  return randomBytes(32).toString("hex");
}
