// `npm run demo:vendure`: the ZenFlow sandbox, a real Vendure on SQLite with the ZenFlow
// plugin (ZenflowPlugin.init, as in a shop's vendure-config.ts) and a few orders placed
// through Vendure's Shop API, printed next to the ZenFlow orders they became. Ctrl-C stops
// it. DEMO_EXIT=1 exits once the orders arrived.
import { DEFAULT_KEY, startSandbox } from "../../dev/sandbox";
import { eventually, placeOrder, SHOPPER, variantIds } from "./test/support/stack";
import { startVendure } from "./test/support/vendure";

async function main() {
  const sandboxPort = Number(process.env.SANDBOX_PORT ?? 4010);
  const port = Number(process.env.PORT ?? 3000);
  const sandbox = await startSandbox({ port: sandboxPort });
  const vendure = await startVendure("sqlite", {
    port,
    config: { apiKey: DEFAULT_KEY, baseUrl: sandbox.url, locationMap: { "1": "LOC-A1" } },
  });
  const ids = await variantIds(vendure);
  const carts = [
    { who: SHOPPER, lines: [{ variantId: ids["MATE-1KG"]!, quantity: 2 }] },
    {
      who: { ...SHOPPER, firstName: "Bruno", lastName: "Díaz", email: "bruno@example.com", address: { ...SHOPPER.address, fullName: "Bruno Díaz", city: "Córdoba", postalCode: "X5000" } },
      lines: [
        { variantId: ids["TERMO-1L"]!, quantity: 1 },
        { variantId: ids["BOMB-01"]!, quantity: 1 },
      ],
    },
    {
      who: { ...SHOPPER, firstName: "Carla", lastName: "Gómez", email: "carla@example.com", address: { ...SHOPPER.address, fullName: "Carla Gómez", city: "Rosario", postalCode: "S2000" } },
      lines: [{ variantId: ids["ALF-12"]!, quantity: 4 }],
    },
  ];
  const codes: string[] = [];
  for (const c of carts) codes.push(await placeOrder(vendure, c.lines, c.who));
  const zf = await eventually(async () => {
    const found = codes.map((code) => sandbox.order(code));
    return found.every(Boolean) ? found : null;
  }, 30_000, "the demo orders in ZenFlow");

  console.log("\nVendure order        → ZenFlow order");
  codes.forEach((code, i) => {
    const o = zf[i]!;
    const lines = o.order_detail.map((l) => `${l.quantity}× ${l.barcode}`).join(", ");
    console.log(`${code.padEnd(20)} → #${o.id} ${o.state_name.padEnd(11)} ${o.customer_name} — ${lines}`);
  });
  console.log(`
Vendure Shop API      ${vendure.url}/shop-api
ZenFlow settings      ${vendure.url}/admin/zenflow/   (sign in as superadmin / superadmin)
ZenFlow dashboard     ${vendure.url}/admin/plugins/zenflow/
Vendure Admin API     ${vendure.url}/admin-api
Sandbox (warehouse)   ${sandbox.origin}/__sandbox/
Move an order on:     curl -XPOST ${sandbox.origin}/__sandbox/orders/${codes[0]}/advance -H 'content-type: application/json' -d '{"state":"Completed","trackingNumber":"TRK-1"}'
`);
  const stop = async () => {
    await vendure.close();
    await sandbox.close();
    process.exit(0);
  };
  if (process.env.DEMO_EXIT) await stop();
  process.on("SIGINT", () => void stop());
  process.on("SIGTERM", () => void stop());
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
