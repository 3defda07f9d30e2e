// Every key the plugin derives from an ERP or ZenFlow identifier, built in one place: the
// entity keys that give each entity one live job (outbox `active_key`) and one ordered
// stream of webhooks (inbox `entity_key`), and the names of the leases that guard them.
const MAX_KEY = 191;

export const entityKey = {
  /** Outbox: one ERP order, by its internal id. */
  order: (erpOrderId: string) => `order:${erpOrderId}`,
  /** Outbox: one ERP product, by its internal id. */
  product: (erpProductId: string) => `product:${erpProductId}`,
  /** Outbox: the level of one SKU at one ERP location. */
  stock: (sku: string, erpLocation: string) => `stock:${sku}@${erpLocation}`.slice(0, MAX_KEY),
  /** Inbox: one ZenFlow order, by our order number (order_tenant_id) or ZenFlow's id. */
  inboxOrder: (ref: string) => `order:${ref}`.slice(0, MAX_KEY),
  /** Inbox: one ZenFlow stock row (product reference @ ZenFlow location). */
  inboxStock: (product: string, location: string) => `stock:${product}@${location}`.slice(0, MAX_KEY),
};

export const leaseName = {
  /** A scheduled task, run by one process at a time. */
  task: (name: string) => `task:${name}`,
  /** The webhooks of one inbox entity, applied by one process at a time. */
  inboxEntity: (key: string) => `inbox:${key}`,
};

/** An ERP reference shown next to a job (order number, SKU), cut to its column. */
export function erpRefOf(value: unknown): string | null {
  return typeof value === "string" ? value.slice(0, MAX_KEY) : null;
}
