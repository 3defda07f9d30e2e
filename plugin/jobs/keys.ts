// Every key the plugin derives from an ERP or ZenFlow identifier, built in one place: the
// entity keys that give each entity one live job (outbox `active_key`) and one ordered
// stream of webhooks (inbox `entity_key`), and the names of the leases that guard them.
//
// External identifiers have any length and any characters, and MariaDB compares VARCHARs
// with the column's collation (case-insensitive, trailing spaces ignored, 'é' = 'e' under
// the default utf8mb4_unicode_ci). So a key is the identifier itself only when that is safe
// under every collation: short, and made of lowercase ASCII letters, digits and `._-`.
// Anything else (uppercase, spaces, non-ASCII, separators, over 48 characters) becomes a
// readable prefix plus a hash of the whole value: `order:SO-2026-00…~<32 hex>`. Two different
// identifiers therefore never share a key, and no key is longer than KEY_MAX, so no column
// can cut one.
import { clip, codePoints, digest } from "../core/text";

/** The longest key any builder returns (the columns hold 191). */
export const KEY_MAX = 96;
/** Characters of a readable prefix kept in front of the hash. */
const PREFIX = 24;
const PLAIN = /^[a-z0-9][a-z0-9._-]{0,47}$/;
const READABLE_CHAR = /[A-Za-z0-9._-]/;

/** The identifier as a key part: itself when plain, else `<readable prefix>~<hash>`. */
export function keyPart(value: string): string {
  if (PLAIN.test(value)) return value;
  const readable = [...clip(value, PREFIX)].filter((c) => READABLE_CHAR.test(c)).join("");
  return `${readable}~${digest(value)}`;
}

/** Several identifiers as one key part: each plain one as itself, or one hash over all of them. */
function keyParts(values: string[]): string {
  if (values.every((v) => PLAIN.test(v))) return values.join("@");
  return `${[...clip(values[0] ?? "", PREFIX)].filter((c) => READABLE_CHAR.test(c)).join("")}~${digest(JSON.stringify(values))}`;
}

export const entityKey = {
  /** Outbox: one ERP order, by its internal id. */
  order: (erpOrderId: string) => `order:${keyPart(erpOrderId)}`,
  /** Outbox: one ERP product, by its internal id. */
  product: (erpProductId: string) => `product:${keyPart(erpProductId)}`,
  /** Outbox: the level of one SKU at one ERP location. */
  stock: (sku: string, erpLocation: string) => `stock:${keyParts([sku, erpLocation])}`,
  /** Inbox: one ZenFlow order, by our order number (order_tenant_id) or ZenFlow's id. */
  inboxOrder: (ref: string) => `order:${keyPart(ref)}`,
  /** Inbox: one ZenFlow stock row (product reference @ ZenFlow location). */
  inboxStock: (product: string, location: string) => `stock:${keyParts([product, location])}`,
};

/** The binder's id of one ERP stock row (SKU at ERP location): as fixed and unambiguous as the entity keys. */
export function stockBindingId(sku: string, erpLocation: string): string {
  return keyParts([sku, erpLocation]);
}

export const leaseName = {
  /** A scheduled task, run by one process at a time. */
  task: (name: string) => `task:${name}`,
  /** The webhooks of one inbox entity, applied by one process at a time: always 38 characters. */
  inboxEntity: (key: string) => `${INBOX_LEASE_PREFIX}${digest(key)}`,
};

/** What every per-entity inbox lease name starts with (housekeeping prunes them). */
export const INBOX_LEASE_PREFIX = "inbox:";

/**
 * An identifier that must fit a column of `max` characters and stay unique there (event ids):
 * itself when it fits, else a prefix and a hash of the whole value, never a bare cut.
 */
export function boundedId(value: string, max: number): string {
  if (codePoints(value) <= max) return value;
  return `${clip(value, max - 33)}~${digest(value)}`;
}

/** The longest ERP reference kept next to a job (order number, SKU): display only, cut on purpose. */
export const ERP_REF_MAX = 191;

/** An ERP reference shown next to a job (order number, SKU), cut to its column. */
export function erpRefOf(value: unknown): string | null {
  return typeof value === "string" ? clip(value, ERP_REF_MAX) : null;
}
