// A Vendure shop with the ZenFlow plugin and the ZenFlow sandbox over real HTTP, plus what a
// shopper does (place an order through the Shop API). The plugin instance comes from the
// package entry with test tuning (short polls and leases) so work flows within milliseconds.
import { createServer } from "node:net";
import zenflow from "zenflow-erp-plugin";
import { startSandbox, type Sandbox } from "../../../../dev/sandbox";
import type { ZenflowSettings } from "../../src";
import { GraphqlClient } from "./graphql";
import { SandboxControl } from "./sandbox-control";
import { type DbKind, startVendure, type TestVendure } from "./vendure";

export const SANDBOX_KEY = "zenflow_test_sandbox";

export type CorePlugin = ReturnType<typeof zenflow.createZenflowPlugin>;

export interface VendureStack {
  vendure: TestVendure;
  sandbox: Sandbox;
  control: SandboxControl;
  plugin: CorePlugin;
  close(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export async function startVendureStack(kind: DbKind, o: { config?: ZenflowSettings } = {}): Promise<VendureStack> {
  const sandbox = await startSandbox({});
  const plugin = zenflow.createZenflowPlugin({
    pollMs: 50,
    leaseMs: 5000,
    // Scheduled tasks run when a test asks (runTask), never on their own.
    schedulerTickMs: 3_600_000,
    boundaryGuardMs: 0,
    backoff: { baseMs: 20, capMs: 200 },
    debounceMs: {},
    workerId: `vendure-${kind}`,
  });
  const port = await freePort();
  let vendure: TestVendure;
  try {
    vendure = await startVendure(kind, {
      port,
      plugin,
      config: { apiKey: SANDBOX_KEY, baseUrl: sandbox.url, batchWindowMs: 5, requestTimeoutMs: 3000, ...o.config },
    });
  } catch (err) {
    await sandbox.close();
    throw err;
  }
  return {
    vendure,
    sandbox,
    control: new SandboxControl(sandbox.origin),
    plugin,
    async close() {
      await vendure.close();
      await sandbox.close();
    },
  };
}

export interface Suite {
  stack: VendureStack;
  admin: GraphqlClient;
  /** Variant ids by SKU. */
  ids: Record<string, string>;
}

/** What most suites start with: the stack, a signed-in admin, variant ids, the webhook subscription in place. */
export async function openSuite(kind: DbKind): Promise<Suite> {
  const stack = await startVendureStack(kind);
  try {
    const admin = await stack.vendure.admin();
    const ids = await variantIds(stack.vendure);
    const task = await runTask(stack, "webhook-subscription");
    if (task === "failed") throw new Error("the webhook subscription task failed");
    return { stack, admin, ids };
  } catch (err) {
    await stack.close();
    throw err;
  }
}

/** Runs one of the plugin's scheduled tasks now (e.g. the webhook subscription). */
export async function runTask(stack: VendureStack, task: string): Promise<string> {
  const engine = stack.plugin.runtime()?.engine;
  if (!engine) throw new Error("the plugin has no running engine (is it configured?)");
  return engine.scheduler.runTask(task);
}

export async function eventually<T>(fn: () => Promise<T> | T, timeoutMs = 10_000, what = "condition"): Promise<NonNullable<T>> {
  const start = Date.now();
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export interface Shopper {
  firstName: string;
  lastName: string;
  email: string;
  address: { fullName: string; streetLine1: string; streetLine2?: string; city: string; province?: string; postalCode: string; countryCode: string; phoneNumber?: string };
}

export const SHOPPER: Shopper = {
  firstName: "Ana",
  lastName: "García",
  email: "ana@example.com",
  address: {
    fullName: "Ana García",
    streetLine1: "Av. Corrientes 1234",
    streetLine2: "Piso 3",
    city: "Buenos Aires",
    province: "CABA",
    postalCode: "C1043",
    countryCode: "AR",
    phoneNumber: "+54 11 5555 0000",
  },
};

/** Variant ids by SKU, from the Shop API. */
export async function variantIds(vendure: TestVendure): Promise<Record<string, string>> {
  const r = await vendure
    .shop()
    .query<{ products: { items: { variants: { id: string; sku: string }[] }[] } }>(`{ products { items { variants { id sku } } } }`);
  return Object.fromEntries(r.products.items.flatMap((p) => p.variants.map((v) => [v.sku, v.id])));
}

/** A guest checkout through the Shop API, paid with the test payment method. Returns the order code. */
export async function placeOrder(vendure: TestVendure, lines: { variantId: string; quantity: number }[], who: Shopper = SHOPPER): Promise<string> {
  const shop: GraphqlClient = vendure.shop();
  for (const l of lines) {
    await shop.query(`mutation($id: ID!, $q: Int!) { addItemToOrder(productVariantId: $id, quantity: $q) { ... on Order { id } ... on ErrorResult { message } } }`, {
      id: l.variantId,
      q: l.quantity,
    });
  }
  await shop.query(`mutation($input: CreateCustomerInput!) { setCustomerForOrder(input: $input) { ... on Order { id } ... on ErrorResult { message } } }`, {
    input: { firstName: who.firstName, lastName: who.lastName, emailAddress: who.email },
  });
  await shop.query(`mutation($input: CreateAddressInput!) { setOrderShippingAddress(input: $input) { ... on Order { id } ... on ErrorResult { message } } }`, {
    input: who.address,
  });
  const methods = await shop.query<{ eligibleShippingMethods: { id: string }[] }>(`{ eligibleShippingMethods { id } }`);
  await shop.query(`mutation($ids: [ID!]!) { setOrderShippingMethod(shippingMethodId: $ids) { ... on Order { id } ... on ErrorResult { message } } }`, {
    ids: [methods.eligibleShippingMethods[0]!.id],
  });
  const t = await shop.query<{ transitionOrderToState: { message?: string } }>(
    `mutation { transitionOrderToState(state: "ArrangingPayment") { ... on Order { id } ... on ErrorResult { message } } }`,
  );
  if (t.transitionOrderToState?.message) throw new Error(`checkout refused: ${t.transitionOrderToState.message}`);
  const paid = await shop.query<{ addPaymentToOrder: { code?: string; state?: string; message?: string } }>(
    `mutation { addPaymentToOrder(input: { method: "test-payment", metadata: {} }) { ... on Order { code state } ... on ErrorResult { message } } }`,
  );
  if (!paid.addPaymentToOrder.code) throw new Error(`payment refused: ${paid.addPaymentToOrder.message}`);
  return paid.addPaymentToOrder.code;
}
