// Issue #13 item 1 benchmark: requests per delivered change, with and without faults. The
// same scripted workload (orders created, some edited, some cancelled; products created and
// edited; stock levels set) runs fault-free and with lost answers, 5xx and resets; the ratio
// faulty / fault-free says how much the faults cost beyond the retries they force. "No-op
// PUTs" are PUT /orders/:id to orders that were never edited in the ERP.
import { newOrder, newProduct } from "../test/support/builders";
import { testDbKinds, type TestDbKind } from "../test/support/db";
import { eventually, startStack, type Stack } from "../test/support/stack";
import { printTable, writeResult } from "./support";

const ORDERS = 60;
const EDITS = 10;
const CANCELS = 5;
const PRODUCTS = 20;
const STOCK = 20;
const CHANGES = ORDERS + EDITS + CANCELS + PRODUCTS + PRODUCTS / 2 + STOCK;

async function settle(stack: Stack): Promise<void> {
  await eventually(
    async () => {
      await stack.drain();
      const rows: { status: string }[] = await stack.db.knex("zenflow_outbox").select("status");
      return rows.every((r) => r.status === "done" || r.status === "dead");
    },
    60_000,
    "outbox settled",
  );
}

async function run(kind: TestDbKind, faulty: boolean) {
  const limits = { perMinute: 100_000, perHour: 1_000_000, perDay: 10_000_000 };
  const stack = await startStack(kind, {
    sandbox: { seed: 13, limits },
    plugin: { autoStart: false },
    config: {
      rateLimitPerMinute: limits.perMinute,
      rateLimitPerHour: limits.perHour,
      rateLimitPerDay: limits.perDay,
      locationMap: { main: "LOC-A1" },
      stockSource: "erp",
      orderBatchSize: 10,
      requestTimeoutMs: 1000,
    },
  });
  try {
    if (faulty) stack.sandbox.setFaults({ rate: 0.25, kinds: ["reset-after", "5xx", "reset"] });
    const erp = stack.main.host.erp;
    const products = [];
    for (let i = 0; i < PRODUCTS; i++) products.push(await erp.createProduct(newProduct(90_000 + i)));
    const orders = [];
    for (let i = 0; i < ORDERS; i++) orders.push(await erp.createOrder(newOrder(90_000 + i)));
    for (let i = 0; i < STOCK; i++)
      await erp.setStock({ sku: products[i % PRODUCTS]!.sku, locationId: "main", quantity: 10 + i, reason: "count" });
    await settle(stack);
    for (let i = 0; i < EDITS; i++) await erp.updateOrder(orders[i]!.id, { shipByDate: "2026-04-20" });
    for (let i = 0; i < CANCELS; i++) await erp.cancelOrder(orders[ORDERS - 1 - i]!.id, "benchmark");
    for (let i = 0; i < PRODUCTS / 2; i++) await erp.updateProduct(products[i]!.id, { name: `Bench product ${i} v2` });
    await settle(stack);
    stack.sandbox.setFaults(null);

    const requests = stack.sandbox.requests();
    const answered = requests.filter((r) => r.status !== null && !r.fault);
    const edited = new Set(orders.slice(0, EDITS).map((o) => o.number));
    const zenflowIdToNumber = new Map(stack.sandbox.orders().map((o) => [String(o.id), o.order_tenant_id]));
    const noopPuts = requests.filter((r) => {
      const m = r.method === "PUT" && /\/orders\/([^/]+)$/.exec(r.path);
      return m && !edited.has(zenflowIdToNumber.get(m[1]!) ?? "");
    }).length;
    // Answered requests per endpoint (ids folded), to see where any extra ones went.
    const byEndpoint: Record<string, number> = {};
    for (const r of answered) {
      const k = `${r.method} ${r.path.replace(/\/api\/v1/, "").replace(/\/(?!bulk$)[^/]*\d[^/]*/g, "/:id")}`;
      byEndpoint[k] = (byEndpoint[k] ?? 0) + 1;
    }
    return {
      kind,
      faulty,
      requests: requests.length,
      answered: answered.length,
      faults: requests.length - answered.length,
      noopPuts,
      byEndpoint,
    };
  } finally {
    await stack.close();
  }
}

async function main() {
  const results: Awaited<ReturnType<typeof run>>[] = [];
  for (const kind of testDbKinds()) for (const faulty of [false, true]) results.push(await run(kind, faulty));
  const base = (kind: TestDbKind) => results.find((r) => r.kind === kind && !r.faulty)!;
  printTable(
    `requests per delivered change (${CHANGES} changes: ${ORDERS} orders, ${EDITS} edits, ${CANCELS} cancels, ${PRODUCTS + PRODUCTS / 2} product versions, ${STOCK} stock levels)`,
    results.map((r) => ({
      db: r.kind,
      run: r.faulty ? "25% faults (lost answers, 5xx, resets)" : "fault-free",
      requests: r.requests,
      "faulted requests": r.faults,
      "answered / change": r.answered / CHANGES,
      "answered ratio vs fault-free": r.answered / base(r.kind).answered,
      "all requests ratio vs fault-free": r.requests / base(r.kind).requests,
      "no-op PUTs": r.noopPuts,
    })),
  );
  console.log(`\nwritten ${writeResult("requests-per-change", { changes: CHANGES, results })}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
