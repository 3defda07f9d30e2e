// Issue #5: GET /metrics on the admin router. prom-client exports no parser, so the answer
// is checked line by line against the Prometheus text format (0.0.4) by a strict parser
// below, and its numbers are compared with what happened in the database and the sandbox.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { newOrder } from "../support/builders";
import { testDbKinds } from "../support/db";
import { addSandboxProduct, SANDBOX_KEY, type Stack, startStack } from "../support/stack";

const WEBHOOK_SECRET = "whsec_metrics_test_secret_value";
const STOCKED = "7792000000014";

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"\s*(?:,|$)/y;

/** A strict reader of the Prometheus text exposition format: throws on any line it does not understand. */
function parseExposition(text: string): Sample[] {
  assert.ok(text.endsWith("\n"), "ends with a newline");
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const [i, line] of text.split("\n").entries()) {
    if (line === "") continue;
    const where = `line ${i + 1}: ${line}`;
    if (line.startsWith("# HELP ")) {
      assert.match(line, new RegExp(`^# HELP ${NAME} \\S.*$`), where);
      continue;
    }
    if (line.startsWith("# TYPE ")) {
      const m = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`).exec(line);
      assert.ok(m, where);
      assert.ok(!types.has(m[1]!), `TYPE declared twice, ${where}`);
      types.set(m[1]!, m[2]!);
      continue;
    }
    assert.ok(!line.startsWith("#"), `unexpected comment, ${where}`);
    const m = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)(?: -?\\d+)?$`).exec(line);
    assert.ok(m, where);
    const labels: Record<string, string> = {};
    const body = m[2] ?? "";
    LABEL.lastIndex = 0;
    while (LABEL.lastIndex < body.length) {
      const l = LABEL.exec(body);
      assert.ok(l, `bad labels, ${where}`);
      assert.ok(!(l[1]! in labels), `label repeated, ${where}`);
      labels[l[1]!] = l[2]!.replace(/\\n/g, "\n").replace(/\\"/g, '"').replace(/\\\\/g, "\\");
    }
    const raw = m[3]!;
    const value = raw === "+Inf" ? Infinity : raw === "-Inf" ? -Infinity : raw === "NaN" ? NaN : Number(raw);
    assert.ok(raw === "NaN" || !Number.isNaN(value), `bad value, ${where}`);
    const name = m[1]!;
    const family = types.has(name) ? name : name.replace(/_(bucket|sum|count)$/, "");
    assert.ok(types.has(family), `sample before its TYPE, ${where}`);
    if (name.endsWith("_bucket")) assert.ok("le" in labels, `bucket without le, ${where}`);
    samples.push({ name, labels, value });
  }
  return samples;
}

function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

function has(samples: Sample[], name: string, labels: Record<string, string>): boolean {
  return samples.some((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

for (const kind of testDbKinds()) {
  describe(`admin metrics [${kind}]`, () => {
    let stack: Stack;
    before(async () => {
      stack = await startStack(kind, {
        sandbox: { strictBarcodes: true },
        plugin: { autoStart: false },
        config: { webhookSecret: WEBHOOK_SECRET },
      });
      await addSandboxProduct(stack, STOCKED, "Mate", "MATE");
    });
    after(async () => {
      await stack?.close();
    });

    async function scrape(): Promise<Sample[]> {
      const res = await fetch(`${stack.main.host.url}/admin/plugins/zenflow/metrics`, {
        headers: { Authorization: `Bearer ${stack.main.host.adminToken}` },
      });
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
      const text = await res.text();
      for (const secret of [SANDBOX_KEY, WEBHOOK_SECRET]) assert.ok(!text.includes(secret), "no secret in the metrics");
      return parseExposition(text);
    }

    it("parses as Prometheus text and moves when work happens", async () => {
      const m0 = await scrape();
      assert.equal(value(m0, "zenflow_jobs", { queue: "outbox", kind: "order", status: "dead" }), 0);
      assert.ok(
        has(m0, "zenflow_jobs", { queue: "outbox", kind: "order", status: "dead" }),
        "the dead-letter series exists before any dead letter",
      );
      assert.equal(value(m0, "zenflow_budget_remaining", { window: "minute" }), 60);
      assert.equal(value(m0, "zenflow_requests_total"), 0);
      assert.equal(value(m0, "zenflow_outbox_lag_seconds"), 0);

      const erp = stack.main.host.erp;
      const line = (barcode: string) => [{ sku: "MATE", barcode, quantity: 1, unitPrice: "9.90" }];
      for (const i of [1, 2]) await erp.createOrder(newOrder(6100 + i, { items: line(STOCKED) }));
      const bad = await erp.createOrder(newOrder(6103, { items: line("7792000009999") }));
      await stack.drain();
      assert.equal(stack.sandbox.orders().length, 2);

      const m1 = await scrape();
      const posts = stack.sandbox.requests().filter((r) => r.method === "POST" && /\/orders$/.test(r.path)).length;
      assert.equal(value(m1, "zenflow_requests_total", { endpoint: "POST /orders" }), posts);
      assert.ok(
        value(m1, "zenflow_requests_total", { endpoint: "POST /orders", outcome: "400" }) >= 1,
        "the rejection is counted by status",
      );
      assert.equal(value(m1, "zenflow_request_duration_seconds_count", { endpoint: "POST /orders" }), posts);
      assert.equal(
        value(m1, "zenflow_request_duration_seconds_bucket", { endpoint: "POST /orders", le: "+Inf" }),
        posts,
        "the +Inf bucket equals the count",
      );
      assert.equal(value(m1, "zenflow_job_results_total", { queue: "outbox", kind: "order", result: "sent" }), 2);
      assert.equal(value(m1, "zenflow_job_results_total", { queue: "outbox", kind: "order", result: "dead" }), 1);
      assert.equal(value(m1, "zenflow_jobs", { queue: "outbox", kind: "order", status: "dead" }), 1);
      const used = await stack.db.knex("zenflow_budget").first();
      // Either what the row says or, when a window boundary fell between the scrape and this
      // read, the whole window.
      assert.ok([60 - Number(used.minute_used), 60].includes(value(m1, "zenflow_budget_remaining", { window: "minute" })));
      assert.ok([1000 - Number(used.hour_used), 1000].includes(value(m1, "zenflow_budget_remaining", { window: "hour" })));
      assert.ok(Number(used.hour_used) >= 1 || Number(used.minute_used) >= 1, "requests were counted");
      assert.equal(value(m1, "zenflow_rate_limited_total"), 0);

      // A change waiting for two minutes shows as lag; the retried dead letter leaves the gauge at 0, not absent.
      await erp.createOrder(newOrder(6104, { items: line(STOCKED) }));
      await stack.db.knex("zenflow_event_log").update({ received_at: Date.now() - 120_000 });
      const r = await stack.main.host.runAction("retry-dead-letters");
      assert.equal(r.ok, true);
      const m2 = await scrape();
      assert.equal(value(m2, "zenflow_jobs", { queue: "event_log", status: "pending" }), 1);
      assert.equal(value(m2, "zenflow_jobs", { queue: "outbox", kind: "order", status: "pending" }), 1, "the retried dead letter waits");
      assert.ok(has(m2, "zenflow_jobs", { queue: "outbox", kind: "order", status: "dead" }));
      assert.equal(value(m2, "zenflow_jobs", { queue: "outbox", kind: "order", status: "dead" }), 0);
      const lag = value(m2, "zenflow_outbox_lag_seconds");
      assert.ok(lag >= 119 && lag < 180, `lag ${lag}`);
      assert.ok(bad.number);
    });
  });
}
