// Which parts of the scenario apply to the plugin as built. Products, stock and webhooks land
// in other issues; the chaos run and the benchmarks switch their parts on by themselves once
// the plugin has them, judged the way a host would: by the manifest, and by what the running
// plugin does (it registers its webhook with ZenFlow itself).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Sandbox } from "../../dev/sandbox";

export interface Features {
  products: boolean;
  stock: boolean;
  webhooks: boolean;
}

const ROOT = join(__dirname, "..", "..");

export function manifestHooks(): string[] {
  const m = JSON.parse(readFileSync(join(ROOT, "manifest.json"), "utf8")) as { hooks?: string[] };
  return m.hooks ?? [];
}

/** Products and stock: the manifest subscribes to their ERP events. */
export function staticFeatures(): Omit<Features, "webhooks"> {
  const hooks = manifestHooks();
  return {
    products: hooks.some((h) => h.startsWith("product.")),
    stock: hooks.includes("stock.changed"),
  };
}

/** Webhooks: the running plugin subscribed to ZenFlow's webhooks (at start, through its scheduler). */
export async function waitForWebhookSubscription(sandbox: Sandbox, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (sandbox.webhooks().some((w) => w.active)) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

export function describeFeatures(f: Features): string {
  const on = (b: boolean) => (b ? "on" : "off (not in the plugin yet)");
  return `products ${on(f.products)}, stock ${on(f.stock)}, webhooks ${on(f.webhooks)}`;
}
