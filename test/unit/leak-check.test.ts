// The leak check (test/support/leak-check.ts) fails a test file that leaves a server, a stack or
// a timer running, and names what was left; a file that closes everything passes. Each case
// runs a fixture from test/fixtures/leaks/ in a child `node --test`, as npm test runs files.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, it } from "node:test";
import "../support/leak-check";

const ROOT = join(__dirname, "..", "..");

interface ChildRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

function runFixture(name: string): Promise<ChildRun> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ZENFLOW_TEST_DBS: "sqlite" };
  // Inherited from this file's own runner, it would make the child report to us as a subprocess.
  delete childEnv.NODE_TEST_CONTEXT;
  const child = spawn(process.execPath, ["--import", "tsx", "--test", "--test-reporter=tap", `test/fixtures/leaks/${name}.test.ts`], {
    cwd: ROOT,
    env: childEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (d) => (output += String(d)));
  child.stderr.on("data", (d) => (output += String(d)));
  // A check that let the leak keep the child alive would hang here: stop it and say so.
  const guard = setTimeout(() => child.kill("SIGKILL"), 90_000);
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(guard);
      resolve({ code, signal, output });
    });
  });
}

function assertLeakReported(run: ChildRun, file: string, expected: (string | RegExp)[]): void {
  assert.equal(run.signal, null, `the child ended by itself instead of hanging on its leak:\n${run.output}`);
  assert.notEqual(run.code, 0, `the file must fail:\n${run.output}`);
  assert.ok(run.output.includes(`leak check: test/fixtures/leaks/${file}.test.ts left running after its tests ended:`), run.output);
  for (const e of expected) {
    if (typeof e === "string") assert.ok(run.output.includes(e), `expected "${e}" in:\n${run.output}`);
    else assert.match(run.output, e);
  }
  assert.match(run.output, /^# pass 1$/m, "the fixture's own test passed: the failure is the leak check's");
}

describe("leak check", { concurrency: true }, () => {
  it("fails a file whose test starts a stack and never closes it, naming the stack, its servers and its timers", async () => {
    const run = await runFixture("stack-left-open");
    const port = /FIXTURE_SANDBOX_PORT=(\d+)/.exec(run.output)?.[1];
    assert.ok(port, run.output);
    assertLeakReported(run, "stack-left-open", [
      `a stack (startStack "sqlite", sandbox on port ${port}) was never closed`,
      "a test database (sqlite: erp.sqlite) was never closed",
      `a server listening on 127.0.0.1:${port} (the ZenFlow sandbox)`,
      /a server listening on 127\.0\.0\.1:\d+ \(reference host erp-1\)/,
      // The worker loops' idle sleeps, named by where they were made.
      /ref'd timers? \(setTimeout\/setInterval\) made at .*plugin\/core\/clock\.ts:\d+:\d+/,
    ]);
  });

  it("fails a file that leaves a plain server listening, naming its address", async () => {
    const run = await runFixture("server-left-open");
    const port = /FIXTURE_PORT=(\d+)/.exec(run.output)?.[1];
    assert.ok(port, run.output);
    assertLeakReported(run, "server-left-open", [`a server listening on 127.0.0.1:${port}`]);
  });

  it("fails a file that leaves a ref'd interval running, naming where the timer was made", async () => {
    const run = await runFixture("timer-left-running");
    assertLeakReported(run, "timer-left-running", [
      /a ref'd timer \(setTimeout\/setInterval\) made at TestContext\.<anonymous> \(test\/fixtures\/leaks\/timer-left-running\.test\.ts:\d+:\d+\)/,
    ]);
  });

  it("passes a file that closes its server in its own top-level after() and leaves only an unref'd timer", async () => {
    const run = await runFixture("clean");
    assert.equal(run.code, 0, run.output);
    assert.ok(!run.output.includes("leak check"), run.output);
    assert.match(run.output, /^# pass 1$/m);
  });
});
