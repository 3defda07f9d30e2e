// Issue #10 items 2, 3 and 5: what ZenFlow (or anything that answers in its name) says is
// bounded. Retry-After and X-RateLimit-Reset of any form pause every process for at most the
// cap, and an admin can lift the pause; a redirect is never followed, to any origin, with
// any status; an answer of any size is read up to 4 MiB. Through the sandbox over HTTP, on
// real SQLite and MariaDB, asserted in the budget row, the outbox and a second server.
import assert from "node:assert/strict";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, beforeEach, describe, it } from "node:test";
import { parseConfig } from "../../plugin/core/config";
import { runCli } from "../../plugin/cli/main";
import { newOrder } from "../support/builders";
import { testDbKinds } from "../support/db";
import { SANDBOX_KEY, startStack, type Stack } from "../support/stack";
import { dashboard, flashOf, post, tokenFor } from "../support/admin";

const S = 1000;
const httpDate = (ms: number) => new Date(ms).toUTCString();

/** What a 429 with these headers must do to the shared pause: [lowest, highest] ms from now. */
const RETRY_AFTER_CASES: { name: string; retryAfter?: string; reset?: (now: number) => string; pause: [number, number] }[] = [
  { name: "seconds", retryAfter: "30", pause: [29 * S, 31 * S] },
  { name: "far too many seconds: capped at the setting (1 h)", retryAfter: "99999999999", pause: [3599 * S, 3601 * S] },
  { name: "HTTP date", retryAfter: "__date+120", pause: [118 * S, 121 * S] },
  { name: "HTTP date in the past: no pause", retryAfter: httpDate(Date.UTC(2015, 9, 21, 7, 28)), pause: [-5 * S, 1 * S] },
  // Nonsense is "unknown": the reset header decides (the sandbox's: the end of this minute).
  { name: "1e20", retryAfter: "1e20", pause: [0, 61 * S] },
  { name: "negative", retryAfter: "-5", pause: [0, 61 * S] },
  { name: "words", retryAfter: "soon", pause: [0, 61 * S] },
  { name: "empty", retryAfter: "", pause: [0, 61 * S] },
  { name: "reset in Unix seconds", retryAfter: "soon", reset: (now) => String(Math.floor(now / 1000) + 90), pause: [88 * S, 91 * S] },
  { name: "reset in Unix milliseconds", retryAfter: "soon", reset: (now) => String(now + 90_000), pause: [88 * S, 91 * S] },
  { name: "reset in seconds from now", retryAfter: "soon", reset: () => "90", pause: [88 * S, 91 * S] },
  { name: "nonsense reset: 30 s", retryAfter: "soon", reset: () => "1e30", pause: [29 * S, 31 * S] },
  {
    name: "reset years ahead: capped",
    retryAfter: "soon",
    reset: (now) => String(Math.floor(now / 1000) + 86_400 * 300),
    pause: [29 * S, 31 * S],
  },
];

function recorder() {
  const seen: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    seen.push(req);
    res.end('{"success":true,"data":{}}');
  });
  return {
    seen,
    start: () =>
      new Promise<string>((r) => server.listen(0, "127.0.0.1", () => r(`http://127.0.0.1:${(server.address() as AddressInfo).port}`))),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

async function cliRun(stack: Stack, args: string[]): Promise<{ code: number; out: string }> {
  let out = "";
  const code = await runCli(args, {
    out: (t) => (out += t),
    err: { write: (t: string) => void (out += t), isTTY: false },
    env: { DATABASE_URL: stack.db.url },
  });
  return { code, out };
}

for (const kind of testDbKinds()) {
  describe(`hostile answers from ZenFlow [${kind}]`, () => {
    let stack: Stack;
    let n = 0;
    const engine = () => stack.main.plugin.runtime()!.engine!;
    const budgetRow = async () => stack.db.knex("zenflow_budget").where({ key_id: engine().budget.keyId }).first();
    const retryOf = async (erpRef: string) => {
      const row = await stack.db.knex("zenflow_history").where({ erp_ref: erpRef, outcome: "retry" }).first();
      assert.ok(row, `a retry recorded for ${erpRef}`);
      return row as { message: string };
    };
    const sendOne = async () => {
      const o = await stack.main.host.erp.createOrder(newOrder(11_000 + ++n));
      await stack.drain();
      return o;
    };
    before(async () => {
      stack = await startStack(kind, { plugin: { autoStart: false } });
    });
    after(async () => stack?.close());
    beforeEach(async () => {
      // Each case starts unpaused, with nothing left waiting, and with a fresh engine: a 429
      // also holds back the process that received it for a few seconds on its own.
      await stack.db.knex("zenflow_budget").update({ paused_until: 0, pause_reason: null });
      await stack.db.knex("zenflow_outbox").where({ status: "pending" }).update({ status: "discarded", active_key: null });
      assert.deepEqual(await stack.main.host.saveConfig({ ...stack.config, requestTimeoutMs: 3000 + ++n }), { ok: true });
    });

    for (const c of RETRY_AFTER_CASES) {
      it(`429 with Retry-After ${JSON.stringify(c.retryAfter)}${c.reset ? " and a reset header" : ""} (${c.name}): every process pauses within bounds`, async () => {
        const now = Date.now();
        const retryAfter = c.retryAfter === "__date+120" ? httpDate(now + 120_000) : c.retryAfter;
        stack.sandbox.failNext(1, "429", {
          path: /\/orders$/,
          method: "POST",
          retryAfterSeconds: 0,
          retryAfter,
          ...(c.reset ? { rateLimitReset: c.reset(now) } : {}),
        });
        await sendOne();
        const pause = Number((await budgetRow()).paused_until) - now;
        assert.ok(pause >= c.pause[0] && pause <= c.pause[1], `paused ${pause} ms, expected ${c.pause[0]}..${c.pause[1]}`);
        // Health, the dashboard and the CLI read it without trouble.
        const health = await stack.main.plugin.health();
        assert.ok(["ok", "degraded"].includes(health.status), health.message);
        await dashboard(stack);
        assert.ok([0, 1].includes((await cliRun(stack, ["status"])).code));
      });
    }

    it("a pause stored by an older version (year 292 million) is shown, clamped, and an admin resumes at once from the dashboard", async () => {
      await stack.db
        .knex("zenflow_budget")
        .update({ paused_until: "9000000000000000000", pause_reason: "ZenFlow asked to slow down (HTTP 429)" });
      const health = await stack.main.plugin.health();
      assert.equal(health.status, "degraded");
      assert.match(health.message!, /sending resumes at .* An admin can resume now/);
      const page = await dashboard(stack);
      assert.match(page, /Sending is paused for all ERP processes until/);
      const status = await cliRun(stack, ["status", "--json"]);
      assert.equal(status.code, 1);
      const pausedUntil = Date.parse(JSON.parse(status.out).budget.pausedUntil);
      assert.ok(pausedUntil <= Date.now() + 86_400_000 + 5000, "clamped on read");
      // Test connection does not hang behind the pause: it says why it did not probe.
      const probe = await stack.main.host.runAction("test-connection");
      assert.equal(probe.ok, false);
      assert.match(probe.message, /paused until .*Resume sending now/);
      // A restart (engine start) shortens it to the cap.
      await engine().budget.ensureRow();
      assert.ok(Number((await budgetRow()).paused_until) <= Date.now() + 3600 * S);

      const r = await post(stack, "resume", { csrf: tokenFor(page, "resume") });
      assert.equal(r.status, 303);
      assert.match(flashOf(r), /Sending resumed/);
      assert.equal(Number((await budgetRow()).paused_until), 0);
      const forged = await post(stack, "resume", { csrf: "0.AAAA" });
      assert.equal(forged.status, 403);
      const o = await sendOne();
      assert.ok(stack.sandbox.order(o.number), "sending resumed");
    });

    it("zenflow-erp resume lifts the pause for every process; an auth pause stays", async () => {
      await stack.db
        .knex("zenflow_budget")
        .update({ paused_until: Date.now() + 3_000_000, pause_reason: "ZenFlow asked to slow down (HTTP 429)" });
      const r = await cliRun(stack, ["resume"]);
      assert.deepEqual([r.code, /Sending resumed/.test(r.out)], [0, true]);
      assert.equal(Number((await budgetRow()).paused_until), 0);
      await stack.db.knex("zenflow_budget").update({ paused_until: Date.now() + 600_000, pause_reason: "auth" });
      await cliRun(stack, ["resume"]);
      assert.ok(Number((await budgetRow()).paused_until) > Date.now(), "the key must be fixed first");
      await stack.db.knex("zenflow_budget").update({ paused_until: 0, pause_reason: null });
    });

    for (const status of [301, 302, 303, 307, 308]) {
      it(`a ${status} redirect to another origin is not followed: no key, no order body leaves`, async () => {
        const other = recorder();
        const origin = await other.start();
        try {
          stack.sandbox.failNext(1, "redirect", {
            path: /\/orders$/,
            method: "POST",
            redirectStatus: status,
            location: `${origin}/steal?x=1`,
          });
          const o = await sendOne();
          assert.equal(other.seen.length, 0, "nothing reached the other origin");
          // The attempt is a retry (the address setting is wrong, not the order) naming the target's origin, never its path.
          const retry = await retryOf(o.number);
          assert.ok(retry.message.includes(origin) && !retry.message.includes("/steal"), retry.message);
          assert.ok(!retry.message.includes(SANDBOX_KEY));
        } finally {
          await other.close();
        }
      });
    }

    it("Test connection names the redirect's target origin", async () => {
      stack.sandbox.failNext(1, "redirect", {
        path: /\/orders$/,
        method: "GET",
        redirectStatus: 307,
        location: "https://evil.example:8443/x",
      });
      const r = await stack.main.host.runAction("test-connection");
      assert.equal(r.ok, false);
      assert.match(r.message, /redirect \(HTTP 307\) to https:\/\/evil\.example:8443/);
    });

    it("the API address must be https (http only to loopback), without credentials", async () => {
      const table: [string, boolean][] = [
        ["https://api.zenflow.com.ar/api/v1", true],
        ["http://127.0.0.1:4010/api/v1", true],
        ["http://localhost:4010/api/v1", true],
        ["http://[::1]:4010/api/v1", true],
        ["http://api.zenflow.com.ar/api/v1", false],
        ["http://127.0.0.1.evil.example/api/v1", false],
        ["ftp://127.0.0.1/api", false],
        ["file:///etc/passwd", false],
        ["https://user:pw@api.zenflow.com.ar/api/v1", false],
        ["javascript:alert(1)", false],
      ];
      for (const [baseUrl, ok] of table) assert.equal(parseConfig({ apiKey: SANDBOX_KEY, baseUrl }).ok, ok, baseUrl);
      // Through the host: a plain-http address elsewhere leaves the plugin unconfigured, naming the setting.
      assert.deepEqual(await stack.main.host.saveConfig({ ...stack.config, baseUrl: "http://api.zenflow.example/api/v1" }), { ok: true });
      const health = await stack.main.plugin.health();
      assert.equal(health.status, "unconfigured");
      assert.match(health.message!, /ZenFlow API address: must be an https:\/\/ address/);
      assert.deepEqual(await stack.main.host.saveConfig(stack.config), { ok: true });
    });

    for (const contentLength of [false, true]) {
      it(`an answer of 256 MiB${contentLength ? " (with Content-Length)" : " (chunked)"} is cut at 4 MiB with the endpoint named; memory stays flat`, async () => {
        global.gc?.();
        const rss = process.memoryUsage().rss;
        stack.sandbox.failNext(1, "huge", { path: /\/orders$/, method: "GET", bodyBytes: 256 * 1_048_576, contentLength });
        const r = await stack.main.host.runAction("test-connection");
        assert.equal(r.ok, false);
        assert.match(r.message, /answer to GET \/orders is larger than 4 MiB/);
        stack.sandbox.failNext(1, "huge", { path: /\/orders$/, method: "POST", bodyBytes: 64 * 1_048_576, contentLength });
        const o = await sendOne();
        assert.match((await retryOf(o.number)).message, /answer to POST \/orders is larger than 4 MiB/);
        const grown = (process.memoryUsage().rss - rss) / 1_048_576;
        assert.ok(grown < 96, `RSS grew ${grown.toFixed(0)} MiB reading a 256 MiB answer`);
      });
    }
  });
}
