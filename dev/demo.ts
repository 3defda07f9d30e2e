// `npm run demo`: the ZenFlow sandbox, the reference ERP host on SQLite and the built
// plugin (loaded from manifest.json like any host would), configured, with a few sample
// orders that you can watch arrive in the sandbox. Ctrl-C stops it. DEMO_EXIT=1 exits
// after the orders arrived (used by the smoke test).
import { rmSync } from "node:fs";
import { join } from "node:path";
import { startHost } from "./host";
import { DEFAULT_KEY, startSandbox } from "./sandbox";

const root = join(__dirname, "..");
// The demo prints its own summary; the host's info lines would bury it.
process.env.LOG_LEVEL ??= "warn";

async function main() {
  const sandboxPort = Number(process.env.SANDBOX_PORT ?? 4010);
  const erpPort = Number(process.env.PORT ?? 3000);
  const dbFile = join(root, "var", "demo", "erp.sqlite");
  rmSync(join(root, "var", "demo"), { recursive: true, force: true });

  const sandbox = await startSandbox({ port: sandboxPort });
  const host = await startHost({
    databaseUrl: `sqlite:${dbFile}`,
    pluginDir: root,
    port: erpPort,
    adminToken: process.env.ERP_ADMIN_TOKEN ?? "demo-admin-token",
    secretKey: process.env.ERP_SECRET_KEY ?? "demo-secret-key-change-me",
    processName: "demo-erp",
  });
  await host.install();
  const saved = await host.saveConfig({ apiKey: DEFAULT_KEY, baseUrl: sandbox.url, locationMap: { main: "LOC-A1", backroom: "LOC-B1" } });
  if (!saved.ok) throw new Error(`config refused: ${JSON.stringify(saved)}`);
  await host.enable();

  const samples = [
    { customer: "Ana Pérez", city: "Buenos Aires", items: [{ sku: "MUG-RED", barcode: "7790001000011", quantity: 2, unitPrice: "12.50" }] },
    {
      customer: "Bruno Díaz",
      city: "Córdoba",
      items: [
        { sku: "TEE-M-BLK", quantity: 1, unitPrice: "19.90" },
        { sku: "CAP-01", quantity: 1, unitPrice: "9.00" },
      ],
    },
    { customer: "Carla Gómez", city: "Rosario", items: [{ sku: "MUG-BLU", barcode: "7790001000028", quantity: 4, unitPrice: "12.50" }] },
  ];
  const orders = [];
  for (const [i, s] of samples.entries()) {
    orders.push(
      await host.erp.createOrder({
        shipByDate: `2026-12-0${i + 1}`,
        customer: { name: s.customer },
        shippingAddress: { line1: `Calle ${100 + i}`, city: s.city, postalCode: "1000", country: "AR" },
        items: s.items,
        currency: "ARS",
      }),
    );
  }
  const deadline = Date.now() + 15_000;
  while (orders.some((o) => !sandbox.order(o.number)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));

  console.log("\nERP order            → ZenFlow order (sandbox)");
  for (const o of orders) {
    const z = sandbox.order(o.number);
    console.log(
      `${o.number.padEnd(20)} → ${z ? `#${z.id}  ${z.state_name}  assembly ${z.assembly_date}  ${z.order_detail.length} line(s)` : "not arrived"}`,
    );
  }
  console.log(`\nPlugin health: ${JSON.stringify(await host.health())}`);
  console.log(`\nZenFlow sandbox (orders as the warehouse sees them): ${sandbox.origin}/__sandbox/`);
  console.log(`ERP admin, sign in:   ${host.url}/admin/login?token=${host.adminToken}`);
  console.log(`Plugin settings:      ${host.url}/admin/plugin-manager/zenflow`);

  const missing = orders.filter((o) => !sandbox.order(o.number)).length;
  const stop = async () => {
    await host.close();
    await sandbox.close();
  };
  if (process.env.DEMO_EXIT) {
    await stop();
    process.exit(missing ? 1 : 0);
  }
  console.log("\nRunning. Press Ctrl-C to stop.");
  for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => void stop().then(() => process.exit(0)));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
