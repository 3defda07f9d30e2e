// dev/host/main.ts: several ERP processes on one database, driven over HTTP, shut down by
// SIGTERM. This is the set-up multi-process and chaos tests build on.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { describe, test } from "node:test";
import request from "supertest";
import { createTestDb, testDbKinds } from "../support/db";
import { ADMIN_TOKEN, FIXTURE_DIR, sampleOrder, waitFor } from "./helpers";

const REPO = join(__dirname, "..", "..");
const BEARER = `Bearer ${ADMIN_TOKEN}`;

interface ErpProcess {
  child: ChildProcess;
  url: string;
  lines: Record<string, unknown>[];
  exited: Promise<number | null>;
}

async function startProcess(name: string, databaseUrl: string, extraEnv: Record<string, string> = {}): Promise<ErpProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", join(REPO, "dev", "host", "main.ts")], {
    cwd: REPO,
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      PORT: "0",
      PLUGIN_DIR: FIXTURE_DIR,
      ERP_ADMIN_TOKEN: ADMIN_TOKEN,
      ERP_SECRET_KEY: "cli-test-key",
      PROCESS_NAME: name,
      CONFIG_POLL_MS: "100",
      LOG_LEVEL: "info",
      ...extraEnv,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: Record<string, unknown>[] = [];
  let stderr = "";
  child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
  createInterface({ input: child.stdout! }).on("line", (line) => {
    try {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      lines.push({ msg: line });
    }
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  let exitCode: number | null | undefined;
  void exited.then((c) => (exitCode = c));
  try {
    await waitFor(() => exitCode !== undefined || lines.some((l) => l.msg === "ERP host ready"), 30_000, `${name} to be ready`);
  } catch (err) {
    child.kill("SIGKILL");
    throw new Error(`${(err as Error).message}\nstdout: ${JSON.stringify(lines.slice(-20))}\nstderr: ${stderr.slice(-2000)}`);
  }
  const ready = lines.find((l) => l.msg === "ERP host ready");
  if (!ready) throw new Error(`${name} exited with ${exitCode}: ${stderr}`);
  return { child, url: String(ready.url), lines, exited };
}

for (const kind of testDbKinds()) {
  describe(`dev/host/main.ts (${kind})`, () => {
    test("two ERP processes on one database: own events, shared data and config, clean SIGTERM", async () => {
      const db = await createTestDb(kind);
      const procs: ErpProcess[] = [];
      try {
        const config = JSON.stringify({ apiKey: "cli-secret-123" });
        // Started together: the host schema and the plugin migrations must cope with the race.
        procs.push(...(await Promise.all([startProcess("erp-a", db.url, { PLUGIN_CONFIG: config }), startProcess("erp-b", db.url)])));
        const [a, b] = procs as [ErpProcess, ErpProcess];

        const created = await request(a.url).post("/erp/orders").set("authorization", BEARER).send(sampleOrder(1)).expect(201);
        const fromB = await request(b.url).get(`/erp/orders/${created.body.id}`).set("authorization", BEARER).expect(200);
        assert.equal(fromB.body.order.number, created.body.number);
        const statusA = await request(a.url).get("/admin/plugins/hostfix/status").set("authorization", BEARER).expect(200);
        const statusB = await request(b.url).get("/admin/plugins/hostfix/status").set("authorization", BEARER).expect(200);
        assert.deepEqual(
          [statusA.body.events, statusB.body.events],
          [1, 0],
          "the event is delivered only in the process that made the change",
        );

        await request(a.url)
          .post("/admin/plugin-manager/hostfix/config")
          .set("authorization", BEARER)
          .send({ apiUrl: "https://changed.example.test" })
          .expect(200);
        await waitFor(
          async () => {
            const res = await request(b.url).get("/admin/plugin-manager/hostfix").set("authorization", BEARER);
            return res.text.includes("connected to https://changed.example.test");
          },
          3000,
          "process b to see the new config (and the secret saved by a)",
        );

        for (const p of procs) p.child.kill("SIGTERM");
        const codes = await Promise.all(procs.map((p) => p.exited));
        assert.deepEqual(codes, [0, 0]);
        for (const p of procs)
          assert.ok(
            p.lines.some((l) => l.msg === "plugin deactivated"),
            "deactivated on SIGTERM",
          );
      } finally {
        for (const p of procs) if (p.child.exitCode === null) p.child.kill("SIGKILL");
        await db.destroy();
      }
    });
  });
}
