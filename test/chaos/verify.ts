// What must be true once the faults stop and the system drained. The ERP's tables are the
// truth for what the ERP holds; the sandbox is the truth for what ZenFlow holds. Orders are
// compared by what ZenFlow stores (its idempotency key is the order number), never by what
// the plugin says it did.
import type { Knex } from "knex";
import type { BudgetReport, RateLimits, Sandbox, SandboxOrder } from "../../dev/sandbox";
import { type OrderRow, orderFromRow } from "../../dev/host/erp/rows";
import { toZenflowOrder } from "../../plugin/mapping/to-zenflow-order";
import type { Driver, WarehouseStep } from "./driver";
import type { Features } from "./features";

export interface Expectations {
  runId: string;
  pluginId: string;
  statusMap: Record<string, string>;
  locationMap: Record<string, string>;
  features: Features;
}

export interface Verdict {
  ok: boolean;
  problems: string[];
  facts: Record<string, number>;
}

const MAX_LISTED = 12;

function list(problems: string[], title: string, items: string[]): void {
  if (!items.length) return;
  problems.push(`${title}: ${items.length} — ${items.slice(0, MAX_LISTED).join("; ")}${items.length > MAX_LISTED ? "; …" : ""}`);
}

/** Orders, products, stock, webhooks and the plugin's queues, as they are now. */
export async function verifyState(db: Knex, sandbox: Sandbox, driver: Driver, x: Expectations): Promise<Verdict> {
  const problems: string[] = [];
  const facts: Record<string, number> = {};
  const prefix = `SO-CH${x.runId}-`;
  const rows = (await db<OrderRow>("erp_orders").where("number", "like", `${prefix}%`)) as OrderRow[];
  const zf = new Map<string, SandboxOrder>();
  for (const o of sandbox.orders()) if (o.order_tenant_id.startsWith(prefix)) zf.set(o.order_tenant_id, o);
  const bindings = new Map<string, string | null>();
  for (const b of await db("zenflow_id_map").where({ entity_type: "order" }).select("erp_id", "zenflow_id"))
    bindings.set(String(b.erp_id), b.zenflow_id === null ? null : String(b.zenflow_id));

  const missing: string[] = [];
  const stale: string[] = [];
  const notCancelled: string[] = [];
  const sentDrafts: string[] = [];
  const unbound: string[] = [];
  const wrongState: string[] = [];
  const erpIds = new Set<string>();
  let eligible = 0;
  let cancelled = 0;
  let drafts = 0;
  for (const row of rows) {
    const order = orderFromRow(row);
    erpIds.add(order.number);
    const sb = zf.get(order.number);
    const model = driver.orders.get(order.id);
    const steps = model?.steps ?? [];
    if (sb) {
      const bound = bindings.get(order.id);
      if (bound !== String(sb.id)) unbound.push(`${order.number} (ZenFlow ${sb.id}, binding ${bound ?? "none"})`);
    }
    if (order.status === "draft") {
      drafts++;
      if (sb) sentDrafts.push(order.number);
      continue;
    }
    if (order.status === "cancelled") {
      cancelled++;
      if (sb && sb.state_name !== "Cancelled") notCancelled.push(`${order.number} is ${sb.state_name} in ZenFlow`);
      continue;
    }
    eligible++;
    if (!sb) {
      missing.push(`${order.number} (${order.status})`);
      continue;
    }
    const want = toZenflowOrder(order).payload;
    const diffs: string[] = [];
    if (sb.assembly_date !== want.assembly_date) diffs.push(`assembly_date ${sb.assembly_date} ≠ ${want.assembly_date}`);
    if ((sb.shipping_address ?? undefined) !== want.shipping_address)
      diffs.push(`address "${sb.shipping_address}" ≠ "${want.shipping_address}"`);
    if ((sb.customer_name ?? undefined) !== want.customer_name) diffs.push(`customer "${sb.customer_name}" ≠ "${want.customer_name}"`);
    if (diffs.length) stale.push(`${order.number}: ${diffs.join(", ")}`);
    const lastStep: WarehouseStep | undefined = steps.at(-1);
    const expectedZf = lastStep ?? "Pending";
    if (sb.state_name !== expectedZf) wrongState.push(`${order.number} is ${sb.state_name} in ZenFlow, expected ${expectedZf}`);
  }
  const unexpected = [...zf.keys()].filter((n) => !erpIds.has(n));
  list(problems, "eligible ERP orders missing in ZenFlow", missing);
  list(problems, "orders whose ZenFlow header is not the ERP's last (assembly_date/address/customer)", stale);
  list(problems, "orders cancelled in the ERP but not in ZenFlow", notCancelled);
  list(problems, "draft (ineligible) orders sent to ZenFlow", sentDrafts);
  list(problems, "ZenFlow orders unknown to the ERP", unexpected);
  list(problems, "ZenFlow orders without the right binding in zenflow_id_map", unbound);
  list(problems, "ZenFlow state not the warehouse's last step", wrongState);
  Object.assign(facts, { erpOrders: rows.length, eligible, cancelled, drafts, zenflowOrders: zf.size });

  if (x.features.webhooks) await verifyWebhooks(db, sandbox, driver, x, rows, problems, facts);
  if (x.features.products) await verifyProducts(db, sandbox, driver, problems, facts);
  if (x.features.stock) await verifyStock(db, sandbox, driver, x, problems, facts);
  await verifyQueues(db, x.features, problems, facts);
  return { ok: problems.length === 0, problems, facts };
}

/** Every warehouse step reached the ERP, once; every delivery was finally acknowledged. */
async function verifyWebhooks(
  db: Knex,
  sandbox: Sandbox,
  driver: Driver,
  x: Expectations,
  rows: OrderRow[],
  problems: string[],
  facts: Record<string, number>,
): Promise<void> {
  const byId = new Map(rows.map((r) => [r.id, r]));
  const wrong: string[] = [];
  let advanced = 0;
  for (const m of driver.orders.values()) {
    const last = m.steps.at(-1);
    if (!last) continue;
    advanced++;
    const row = byId.get(m.id);
    if (!row) continue;
    const want = last === "Completed" ? "shipped" : (x.statusMap[last] ?? "?");
    if (row.status !== want) wrong.push(`${m.number}: ERP ${row.status}, ZenFlow ${last} → expected ${want}`);
    else if (last === "Completed" && row.tracking_number !== m.trackingNumber)
      wrong.push(`${m.number}: tracking ${row.tracking_number ?? "none"} ≠ ${m.trackingNumber}`);
  }
  list(problems, "warehouse changes not applied to the ERP", wrong);
  // Applied once: the plugin never wrote the same status to one order twice.
  const twice = (await db("erp_order_events")
    .where({ what: "status", origin: x.pluginId })
    .andWhere("order_id", "like", `ord_chaos_${x.runId}_%`)
    .groupBy("order_id", "to_value")
    .havingRaw("count(*) > 1")
    .select("order_id", "to_value")
    .count({ n: "*" })) as { order_id: string; to_value: string; n: number | string }[];
  list(
    problems,
    "webhook changes applied more than once",
    twice.map((t) => `${t.order_id} → ${t.to_value} ×${t.n}`),
  );
  // Every event reached the ERP: its last delivery on the plugin's subscription was acknowledged.
  const registration = await db("zenflow_state").where({ key: "webhook:registration" }).first();
  const current = registration ? (JSON.parse(String(registration.value)) as { subscriptionId?: string }).subscriptionId : undefined;
  const deliveries = sandbox.deliveries();
  const lastByEvent = new Map<string, { webhookId: string; status: number | null; attempt: number }>();
  for (const d of deliveries)
    lastByEvent.set(`${d.webhookId}/${d.eventId}`, { webhookId: d.webhookId, status: d.status, attempt: d.attempt });
  const failed = [...lastByEvent].filter(([, d]) => d.status === null || d.status < 200 || d.status >= 300);
  list(
    problems,
    `webhook events never acknowledged on the plugin's subscription ${current ?? "(none registered)"}`,
    failed.filter(([, d]) => d.webhookId === current).map(([id, d]) => `${id} (attempt ${d.attempt}: ${d.status ?? "no answer"})`),
  );
  // ZenFlow cannot delete a subscription: a second one keeps delivering every event, and fails
  // for good once its secret is unknown. There must be exactly one.
  const active = sandbox.webhooks().filter((w) => w.active);
  if (active.length !== 1)
    problems.push(
      `${active.length} active webhook subscriptions in ZenFlow (the plugin holds ${current ?? "none"}): ` +
        active.map((w) => `${w.id}: ${failed.filter(([, d]) => d.webhookId === w.id).length} events failing`).join("; "),
    );
  Object.assign(facts, {
    warehouseOrders: advanced,
    webhookEvents: lastByEvent.size,
    webhookAttempts: deliveries.length,
    webhookRetries: deliveries.length - lastByEvent.size,
  });
}

async function verifyProducts(
  db: Knex,
  sandbox: Sandbox,
  driver: Driver,
  problems: string[],
  facts: Record<string, number>,
): Promise<void> {
  const skus = new Set(driver.products.map((p) => p.sku));
  const erp = (await db("erp_products").whereIn("sku", [...skus])) as { sku: string; name: string; barcode: string | null }[];
  const inZf = new Map<string, number>();
  const names = new Map<string, string>();
  for (const p of sandbox.products()) {
    if (!p.external_id || !skus.has(p.external_id)) continue;
    inZf.set(p.external_id, (inZf.get(p.external_id) ?? 0) + 1);
    names.set(p.external_id, p.name);
  }
  const bad: string[] = [];
  for (const p of erp) {
    const n = inZf.get(p.sku) ?? 0;
    if (n !== 1) bad.push(`${p.sku} exists ${n}× in ZenFlow`);
    else if (names.get(p.sku) !== p.name) bad.push(`${p.sku}: name "${names.get(p.sku)}" ≠ "${p.name}"`);
  }
  list(problems, "products not matching the ERP", bad);
  facts.products = erp.length;
}

async function verifyStock(
  db: Knex,
  sandbox: Sandbox,
  driver: Driver,
  x: Expectations,
  problems: string[],
  facts: Record<string, number>,
): Promise<void> {
  const skus = driver.products.map((p) => p.sku);
  const erp = (await db("erp_stock").whereIn("sku", skus)) as { sku: string; location_id: string; quantity: number | string }[];
  const zf = new Map<string, number>();
  for (const s of sandbox.stock()) if (s.sku) zf.set(`${s.sku}@${s.location_id}`, s.quantity);
  const bad: string[] = [];
  for (const s of erp) {
    const loc = x.locationMap[s.location_id] ?? s.location_id;
    const have = zf.get(`${s.sku}@${loc}`);
    if (have !== Number(s.quantity)) bad.push(`${s.sku}@${s.location_id}: ZenFlow ${have ?? "none"} ≠ ERP ${s.quantity}`);
  }
  list(problems, "stock levels not matching the ERP", bad);
  facts.stockLevels = erp.length;
}

/** Nothing left waiting or stuck, and nothing given up on. */
async function verifyQueues(db: Knex, features: Features, problems: string[], facts: Record<string, number>): Promise<void> {
  const tables = features.webhooks ? ["zenflow_outbox", "zenflow_inbox"] : ["zenflow_outbox"];
  for (const table of tables) {
    const counts = (await db(table).select("status").count({ n: "*" }).groupBy("status")) as { status: string; n: number | string }[];
    for (const c of counts) facts[`${table.replace("zenflow_", "")}.${c.status}`] = Number(c.n);
    const open = counts.filter((c) => c.status === "pending" || c.status === "running").reduce((a, c) => a + Number(c.n), 0);
    if (open) problems.push(`${table}: ${open} jobs still pending or running`);
    const dead = (await db(table).where({ status: "dead" }).limit(MAX_LISTED)) as {
      erp_ref?: string | null;
      entity_key?: string | null;
      last_error: string | null;
    }[];
    list(
      problems,
      `${table}: dead letters`,
      dead.map((d) => `${d.erp_ref ?? d.entity_key ?? "?"}: ${d.last_error ?? ""}`.slice(0, 300)),
    );
  }
  const log = (await db("zenflow_event_log").count({ n: "*" }))[0] as { n: number | string };
  if (Number(log.n)) problems.push(`zenflow_event_log: ${log.n} ERP changes not routed yet`);
}

/** The sandbox's own judgement of the combined traffic of every process. */
export function verifyBudget(
  report: BudgetReport,
  limits: RateLimits,
): { problems: string[]; key: string; budget: BudgetReport[string] | null } {
  const entries = Object.entries(report);
  const problems: string[] = [];
  if (entries.length !== 1) problems.push(`expected traffic from exactly one API key, saw ${entries.length}`);
  const [key, b] = entries[0] ?? ["?", undefined];
  if (!b) return { problems: [...problems, "no traffic reached ZenFlow"], key, budget: null };
  if (b.maxPerMinuteWindow > limits.perMinute)
    problems.push(`${b.maxPerMinuteWindow} requests in one minute window (limit ${limits.perMinute})`);
  if (b.maxPerHourWindow > limits.perHour) problems.push(`${b.maxPerHourWindow} requests in one hour window (limit ${limits.perHour})`);
  if (b.maxPerDayWindow > limits.perDay) problems.push(`${b.maxPerDayWindow} requests in one day window (limit ${limits.perDay})`);
  if (b.limit429s) problems.push(`${b.limit429s} requests refused with 429 for exceeding the budget (or sent inside a block)`);
  list(
    problems,
    "requests sent inside a Retry-After window",
    b.retryAfterViolations.map(
      (v) => `${new Date(v.at).toISOString()} ${v.path} (blocked until ${new Date(v.blockedUntil).toISOString()})`,
    ),
  );
  return { problems, key, budget: b };
}
