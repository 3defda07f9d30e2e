// API keys, their status and scopes (docs §2). Keys are only ever shown by a
// short label (last 4 characters) so logs and reports never carry a whole key.
import type { KeyStatus, SandboxKey } from "./types";

export interface KeyRecord {
  readonly key: string;
  readonly label: string;
  scopes: string[];
  status: KeyStatus;
}

const KEY_STATUSES: readonly KeyStatus[] = ["active", "expired", "revoked"];

/** What the request log shows for a presented key: its last 4 characters only. */
export function keyLabel(presented: string): string {
  return presented.length > 4 ? presented.slice(-4) : "****";
}

export class KeyRing {
  private readonly byKey = new Map<string, KeyRecord>();

  add(k: SandboxKey): void {
    if (typeof k.key !== "string" || k.key.length === 0) throw new Error("Sandbox key must be a non-empty string");
    if (!Array.isArray(k.scopes) || k.scopes.some((s) => typeof s !== "string"))
      throw new Error("Sandbox key scopes must be an array of strings");
    const status = k.status ?? "active";
    if (!KEY_STATUSES.includes(status)) throw new Error(`Unknown key status ${String(status)}`);
    const existing = this.byKey.get(k.key);
    if (existing) {
      existing.scopes = [...k.scopes];
      existing.status = status;
      return;
    }
    this.byKey.set(k.key, { key: k.key, label: this.uniqueLabel(k.key), scopes: [...k.scopes], status });
  }

  get(key: string): KeyRecord | undefined {
    return this.byKey.get(key);
  }

  setStatus(key: string, status: KeyStatus): void {
    if (!KEY_STATUSES.includes(status)) throw new Error(`Unknown key status ${String(status)}`);
    this.require(key).status = status;
  }

  setScopes(key: string, scopes: string[]): void {
    this.require(key).scopes = [...scopes];
  }

  /** Safe listing (labels, no keys). */
  list(): { key: string; scopes: string[]; status: KeyStatus }[] {
    return [...this.byKey.values()].map((r) => ({ key: r.label, scopes: [...r.scopes], status: r.status }));
  }

  private require(key: string): KeyRecord {
    const rec = this.byKey.get(key);
    if (!rec) throw new Error(`Unknown sandbox key ending in ${keyLabel(key)}`);
    return rec;
  }

  // Two keys sharing their last 4 characters would merge in the budget report,
  // so the later one gets a "#n" suffix.
  private uniqueLabel(key: string): string {
    const base = keyLabel(key);
    const taken = new Set([...this.byKey.values()].map((r) => r.label));
    if (!taken.has(base)) return base;
    for (let n = 2; ; n++) if (!taken.has(`${base}#${n}`)) return `${base}#${n}`;
  }
}

const SCOPED_RESOURCES = new Set(["orders", "products", "stock", "webhooks"]);

/**
 * Scope an endpoint needs (docs §2.5): every documented route follows
 * GET → read:<resource>, any write method → write:<resource>. Webhooks follow the
 * scope descriptions (read:webhooks / write:webhooks). Unknown resources need none
 * (they end in 404).
 */
export function requiredScope(method: string, relPath: string): string | null {
  const resource = relPath.split("/").filter(Boolean)[0];
  if (!resource || !SCOPED_RESOURCES.has(resource)) return null;
  const read = method === "GET" || method === "HEAD";
  return `${read ? "read" : "write"}:${resource}`;
}

export function hasScope(scopes: readonly string[], needed: string): boolean {
  return scopes.includes("admin") || scopes.includes(needed);
}
