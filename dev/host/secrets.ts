// Encryption at rest for writeOnly config values (AES-256-GCM). Every process of one ERP
// must use the same key: ERP_SECRET_KEY, or the key file that the first process creates.
import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";

export const DEFAULT_KEY_FILE = "var/host-secret.key";
const PREFIX = "v1.";

export interface SecretCipher {
  /** `aad` binds the ciphertext to its place (plugin id and property), so values cannot be swapped. */
  encrypt(value: unknown, aad: string): string;
  decrypt(token: string, aad: string): unknown;
}

export function resolveSecretKey(explicit?: string, keyFile = DEFAULT_KEY_FILE): string {
  if (explicit) return explicit;
  const fromEnv = process.env.ERP_SECRET_KEY;
  if (fromEnv) return fromEnv;
  const file = resolve(keyFile);
  try {
    return readFileSync(file, "utf8").trim();
  } catch {
    mkdirSync(dirname(file), { recursive: true });
    try {
      // "wx": when two processes start together, exactly one creates the key and the other reads it.
      writeFileSync(file, randomBytes(32).toString("hex"), { flag: "wx", mode: 0o600 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    return readFileSync(file, "utf8").trim();
  }
}

// scrypt is deliberately slow (~40 ms); hosts in one process (tests) derive each key once.
const derivedKeys = new Map<string, Buffer>();

export function createCipher(secretKey: string): SecretCipher {
  // scrypt turns any passphrase into a 256-bit key; the salt is fixed because the key must be
  // the same in every process.
  let key = derivedKeys.get(secretKey);
  if (!key) {
    key = scryptSync(secretKey, "erp-host-config-secrets-v1", 32);
    derivedKeys.set(secretKey, key);
  }
  const aesKey = key;
  return {
    encrypt(value, aad) {
      const iv = randomBytes(12);
      const c = createCipheriv("aes-256-gcm", aesKey, iv);
      c.setAAD(Buffer.from(aad, "utf8"));
      const body = Buffer.concat([c.update(JSON.stringify(value), "utf8"), c.final()]);
      return PREFIX + [iv, c.getAuthTag(), body].map((b) => b.toString("base64url")).join(".");
    },
    decrypt(token, aad) {
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
