// Issue #10 item 4: the public webhook endpoint reads nothing for a caller without the path
// token, answers an unconfigured plugin like an unknown path, bounds how long and how much it
// reads before the signature is checked, and verifies the bytes as they were sent. Raw HTTP
// against the reference host, on real SQLite and MariaDB.
import assert from "node:assert/strict";
import { request } from "node:http";
import { after, before, describe, it } from "node:test";
import { brotliCompressSync, gzipSync } from "node:zlib";
import { sign } from "../../plugin/webhooks/signature";
import { testDbKinds } from "../support/db";
import { startStack, type Stack } from "../support/stack";
import { envelope, webhookClient, type Hook } from "../support/webhooks";

interface Answer {
  status: number | null;
  body: string;
}

/**
 * One POST over its own connection. `send` bytes of the body are written (all of it by
 * default); when fewer than declared, the request stalls there. Resolves with the answer, or
 * status null when none came within `patienceMs` (a server that waits for the rest).
 */
function raw(
  url: string,
  o: { body?: Buffer; headers?: Record<string, string>; declare?: number; send?: number; patienceMs?: number },
): Promise<Answer> {
  const body = o.body ?? Buffer.alloc(0);
  return new Promise((resolve) => {
    const req = request(url, {
      method: "POST",
      agent: false,
      headers: { "content-type": "application/json", "content-length": String(o.declare ?? body.length), ...o.headers },
    });
    const timer = setTimeout(() => {
      req.destroy();
      resolve({ status: null, body: "" });
    }, o.patienceMs ?? 20_000);
    req.on("response", (res) => {
      let text = "";
      res.on("data", (d) => (text += String(d)));
      res.on("end", () => {
        clearTimeout(timer);
        req.destroy();
        resolve({ status: res.statusCode ?? null, body: text });
      });
    });
    req.on("error", () => undefined);
    req.write(body.subarray(0, o.send ?? body.length));
    if ((o.send ?? body.length) >= (o.declare ?? body.length)) req.end();
  });
}

const inboxCount = async (stack: Stack) => Number((await stack.db.knex("zenflow_inbox").count({ n: "*" }))[0]!.n);

for (const kind of testDbKinds()) {
  describe(`webhook bodies [${kind}]`, () => {
    let stack: Stack;
    let hook: Hook;
    let wrong: string;
    before(async () => {
      stack = await startStack(kind, { plugin: { autoStart: false } });
      hook = await webhookClient(stack);
      wrong = hook.url.replace(/[^/]+$/, "A".repeat(32));
    });
    after(async () => stack?.close());

    it("a wrong token is 404 before a byte of the body is read, whatever its size", async () => {
      const cases: { name: string; declare: number; send: number }[] = [
        { name: "10 MB declared, nothing sent", declare: 10_000_000, send: 0 },
        { name: "1 GB declared, 1 KB sent", declare: 1_000_000_000, send: 1024 },
        { name: "2 MB sent in full", declare: 2_000_000, send: 2_000_000 },
        { name: "empty", declare: 0, send: 0 },
      ];
      for (const c of cases) {
        const a = await raw(wrong, { body: Buffer.alloc(c.send, 0x20), declare: c.declare });
        assert.equal(a.status, 404, c.name);
      }
      // The right token with an oversized declaration is refused before reading too.
      assert.equal((await raw(hook.url, { body: Buffer.alloc(0), declare: 5_000_000 })).status, 413);
    });

    it("a body that stops arriving gets 408 after the read deadline, and is not stored", async () => {
      const before = await inboxCount(stack);
      const body = Buffer.from(JSON.stringify(envelope("order/updated", { order_id: 1 })));
      const a = await raw(hook.url, { body, send: 10, headers: { "X-ZenFlow-Signature": sign(hook.secret, body) } });
      assert.equal(a.status, 408);
      assert.equal(await inboxCount(stack), before);
    });

    it("bodies in flight before their signature is checked are capped: the rest get 503 with Retry-After; memory stays bounded", async () => {
      global.gc?.();
      const rss = process.memoryUsage().rss;
      // 300 slow deliveries at once (over the 256 in flight), and 24 of 1 MB (over 16 MB held).
      const slow = Array.from({ length: 300 }, () => raw(hook.url, { body: Buffer.alloc(16, 0x20), declare: 1000 }));
      const big = Array.from({ length: 24 }, () =>
        raw(hook.url, { body: Buffer.alloc(1_000_000, 0x20), declare: 1_048_000, send: 1_000_000 }),
      );
      const answers = await Promise.all([...slow, ...big]);
      const grown = (process.memoryUsage().rss - rss) / 1_048_576;
      const by = (s: number | null) => answers.filter((a) => a.status === s).length;
      assert.ok(by(503) >= 44 + 8, `${by(503)} refused as busy`);
      assert.equal(by(503) + by(408), answers.length, "every other one timed out reading");
      assert.ok(grown < 128, `RSS grew ${grown.toFixed(0)} MiB`);
      // Once they are gone, a real delivery is stored.
      const ok = await hook.signed(envelope("flow/started", { flow_id: 1 }));
      assert.equal(ok.status, 200);
    });

    it("the signature covers the bytes as sent: a gzip body verifies compressed, is inflated only then, and at most to 1 MB", async () => {
      const json = JSON.stringify(envelope("flow/started", { flow_id: 2 }));
      const gz = gzipSync(json);
      const table: { name: string; body: Buffer; headers: Record<string, string>; status: number }[] = [
        {
          name: "gzip, signed as sent",
          body: gz,
          headers: { "content-encoding": "gzip", "X-ZenFlow-Signature": sign(hook.secret, gz) },
          status: 200,
        },
        {
          name: "gzip, signed before compressing",
          body: gzipSync(JSON.stringify(envelope("flow/started", { flow_id: 3 }))),
          headers: {
            "content-encoding": "gzip",
            "X-ZenFlow-Signature": sign(hook.secret, JSON.stringify(envelope("flow/started", { flow_id: 3 }))),
          },
          status: 401,
        },
        {
          name: "gzip bomb (100 MB of zeros), signed",
          body: gzipSync(Buffer.alloc(100_000_000)),
          headers: { "content-encoding": "gzip" },
          status: 400,
        },
        { name: "brotli", body: brotliCompressSync(json), headers: { "content-encoding": "br" }, status: 415 },
      ];
      for (const c of table) {
        const headers = { "X-ZenFlow-Signature": sign(hook.secret, c.body), ...c.headers };
        assert.equal((await raw(hook.url, { body: c.body, headers })).status, c.status, c.name);
      }
    });

    it("an unconfigured plugin answers 404 to any token, like an unknown path", async () => {
      const bare = await startStack(kind, { configure: false, plugin: { autoStart: false } });
      try {
        const base = `${bare.main.host.ctx.http.publicUrl}/webhooks/`;
        for (const token of ["A".repeat(32), "x"]) {
          const a = await raw(base + token, { body: Buffer.from("{}"), headers: { "X-ZenFlow-Signature": sign("whsec_x", "{}") } });
          assert.equal(a.status, 404, token);
          assert.ok(!/not ready|unavailable/i.test(a.body), a.body);
        }
      } finally {
        await bare.close();
      }
    });
  });
}
