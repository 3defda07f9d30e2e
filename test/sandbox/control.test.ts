// Control HTTP API under /__sandbox (drives a sandbox from another process) and the CLI.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { startSandbox, type Sandbox } from "../../dev/sandbox/index";
import { call, order, startReceiver, type Receiver } from "./helpers";

describe("sandbox control API", () => {
  let sb: Sandbox;
  let rx: Receiver;
  before(async () => {
    sb = await startSandbox();
    rx = await startReceiver();
  });
  after(async () => {
    await sb.close();
    await rx.close();
  });

  async function control(method: string, path: string, body?: unknown) {
    const res = await fetch(`${sb.origin}/__sandbox${path}`, {
      method,
      headers: body === undefined ? {} : { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return {
      status: res.status,
      type: res.headers.get("content-type") ?? "",
      text,
      json: res.headers.get("content-type")?.includes("json") ? JSON.parse(text) : undefined,
    };
  }

  it("exposes state and the request log without secrets or full keys", async () => {
    await call(sb, "POST", "/webhooks", { body: { name: "erp", url: rx.url, events: ["order/created", "order/completed"] } });
    await call(sb, "POST", "/orders", { body: order("CTL-1") });
    const state = await control("GET", "/state");
    assert.equal(state.status, 200);
    assert.equal(state.json.data.orders[0].order_tenant_id, "CTL-1");
    assert.equal(state.json.data.webhooks.length, 1);
    assert.ok(!state.text.includes("whsec_"), "no webhook secret");
    assert.ok(!state.text.includes("zenflow_test_sandbox"), "no full key");
    assert.equal(state.json.data.budgetReport.dbox.requests, 2);
    const log = await control("GET", "/requests?since=1");
    assert.deepEqual(
      log.json.data.requests.map((r: { seq: number }) => r.seq),
      [2],
    );
  });

  it("advances orders, sets stock, keys, limits and faults", async () => {
    const adv = await control("POST", "/orders/CTL-1/advance", { state: "Completed", trackingNumber: "TRK-9" });
    assert.equal(adv.status, 200);
    assert.equal(adv.json.data.order.state_name, "Completed");
    assert.equal(sb.order("CTL-1")!.tracking_number, "TRK-9");
    await sb.idle();
    assert.equal(rx.received[rx.received.length - 1]!.json.event, "order/completed");
    assert.equal((await control("POST", "/orders/NOPE/advance", { state: "Packed" })).status, 404);

    await call(sb, "POST", "/products", { body: { name: "W", barcode: "B1", sku: "S1" } });
    const stock = await control("POST", "/stock", { sku: "S1", location_id: "LOC-B1", quantity: 9 });
    assert.equal(stock.status, 200);
    assert.equal(sb.stock()[0]!.quantity, 9);
    assert.equal((await control("POST", "/stock", { sku: "S1", location_id: "NOWHERE", quantity: 1 })).status, 400);

    const key = await control("POST", "/keys", { key: "zenflow_test_remote1", scopes: ["read:orders"] });
    assert.deepEqual(key.json.data, { key: "ote1", scopes: ["read:orders"], status: "active" });
    assert.equal((await call(sb, "GET", "/orders", { key: "zenflow_test_remote1" })).status, 200);
    await control("POST", "/keys", { key: "zenflow_test_remote1", scopes: ["read:orders"], status: "revoked" });
    assert.equal((await call(sb, "GET", "/orders", { key: "zenflow_test_remote1" })).body.error.code, "revoked_api_key");

    await control("POST", "/limits", { perMinute: 1000, perHour: 2000, perDay: 3000 });
    assert.equal((await call(sb, "GET", "/orders")).headers.get("x-ratelimit-limit"), "1000");

    assert.equal((await control("POST", "/faults", { rate: 1, kinds: ["5xx"], path: "/products" })).status, 200);
    const faulted = await call(sb, "GET", "/products");
    assert.ok([500, 502, 503].includes(faulted.status), `5xx fault, got ${faulted.status}`);
    assert.equal((await call(sb, "GET", "/orders")).status, 200);
    await control("POST", "/faults", null);
    assert.equal((await call(sb, "GET", "/products")).status, 200);
    assert.equal((await control("POST", "/faults", { rate: 2, kinds: ["5xx"] })).status, 400);
    await control("POST", "/fail-next", { kind: "5xx", n: 1 });
    assert.equal((await call(sb, "GET", "/orders")).status, 500);
  });

  it("serves an auto-refreshing HTML page of received orders, newest first, and resets", async () => {
    await call(sb, "POST", "/orders", { body: order("CTL-<2>") });
    const page = await control("GET", "/");
    assert.equal(page.status, 200);
    assert.match(page.type, /text\/html/);
    assert.match(page.text, /http-equiv="refresh" content="2"/);
    assert.ok(page.text.includes("CTL-&lt;2&gt;"), "escaped");
    assert.ok(page.text.indexOf("CTL-&lt;2&gt;") < page.text.indexOf("CTL-1"), "newest first");
    assert.ok(page.text.includes("7891234567890"));

    const reset = await control("POST", "/reset");
    assert.equal(reset.status, 200);
    assert.equal(sb.orders().length, 0);
    assert.equal(sb.requests().length, 0);
    assert.equal((await call(sb, "GET", "/orders")).status, 200, "keys survive a reset");
  });
});

describe("sandbox CLI", () => {
  it("starts on PORT, prints its URL without the key, and stops on SIGTERM", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", "dev/sandbox/main.ts"], {
      env: { ...process.env, PORT: "0", SANDBOX_KEY: "zenflow_test_cli_key9" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      let out = "";
      child.stdout.on("data", (c: Buffer) => (out += c.toString()));
      const deadline = Date.now() + 10_000;
      while (!/API:\s+(\S+)/.test(out)) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`CLI did not start: ${out}`);
        await new Promise((r) => setTimeout(r, 25));
      }
      const url = /API:\s+(\S+)/.exec(out)![1]!;
      assert.ok(!out.includes("zenflow_test_cli_key9"), "the key is not printed");
      const r = await fetch(`${url}/orders`, { headers: { "X-API-Key": "zenflow_test_cli_key9" } });
      assert.equal(r.status, 200);
      const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
      child.kill("SIGTERM");
      assert.equal(await exited, 0);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });
});
