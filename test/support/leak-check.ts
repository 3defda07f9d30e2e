// Fails a test file that leaves something running after its tests end: a server, a socket (a
// database pool, a keep-alive connection), a child process, a worker loop or any other ref'd
// timer. Imported (for its side effect) by every support entry point, so every test file that
// builds a stack, a sandbox, a host or a database gets it; a file that builds none can import it.
//
// How: at import it records what the process already holds (process.getActiveResourcesInfo(),
// which lists ref'd handles and ref'd timers only: an unref'd timer cannot keep the process
// alive and is allowed). A root after() hook, registered once the test file's own top-level
// code has run so that it runs after the file's own after() hooks, compares what is left with
// that baseline, giving closes a moment to finish. Anything more fails the file with one line
// per leftover, named from the handle itself (address, command line), from the labels the
// support modules attach (which port is the sandbox, which host, which stack was never closed)
// and, for timers, from where they were created: in a test file's process the global
// setTimeout/setInterval are wrapped to keep the caller's stack on each timer (captured lazily,
// formatted only for a report; the timers themselves are untouched). After reporting, the
// leftovers are unref'd so the file ends instead of hanging.
import { ChildProcess } from "node:child_process";
import { Server, Socket } from "node:net";
import { relative } from "node:path";
import { after } from "node:test";

/** How long closes may take to finish (sockets closing after their server, pools draining). */
const SETTLE_MS = 3000;

/** The kinds that describeLeftovers names handle by handle. */
const NAMED = /^(TCPServerWrap|TCPSocketWrap|ProcessWrap|PipeWrap|Timeout)$/;

interface Probe {
  what: string;
  open(): boolean;
}

interface LeakState {
  baseline: Map<string, number>;
  baselineHandles: WeakSet<object>;
  portLabels: Map<number, string>;
  probes: Set<Probe>;
  /** Every timer made through the wrapped globals (weakly), to name the ones still pending. */
  timers: Set<WeakRef<NodeJS.Timeout>>;
}

const KEY = Symbol.for("zenflow.test.leak-check");
const holder = globalThis as { [KEY]?: LeakState };

function count(kinds: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const k of kinds) m.set(k, (m.get(k) ?? 0) + 1);
  return m;
}

function activeHandles(): object[] {
  return (process as unknown as { _getActiveHandles(): object[] })._getActiveHandles();
}

function state(): LeakState {
  if (holder[KEY]) return holder[KEY];
  // stdout and stderr are created on first use: create them now so they are part of the baseline.
  void process.stdout;
  void process.stderr;
  const s: LeakState = {
    baseline: count(process.getActiveResourcesInfo()),
    baselineHandles: new WeakSet(activeHandles()),
    portLabels: new Map(),
    probes: new Set(),
    timers: new Set(),
  };
  holder[KEY] = s;
  return s;
}

const CREATED = Symbol("leak-check: created at");

/** Wraps the global setTimeout and setInterval so that each timer carries where it was made. */
function recordTimerOrigins(timers: LeakState["timers"]): void {
  let pruneAt = 10_000;
  const prune = () => {
    for (const r of timers) {
      const t = r.deref() as { _destroyed?: boolean } | undefined;
      if (!t || t._destroyed) timers.delete(r);
    }
    pruneAt = Math.max(10_000, timers.size * 2);
  };
  for (const name of ["setTimeout", "setInterval"] as const) {
    const original = globalThis[name] as (...args: unknown[]) => NodeJS.Timeout;
    const wrapped = function (this: unknown, ...args: unknown[]): NodeJS.Timeout {
      const timer = original.apply(this, args);
      const origin: { stack?: string } = {};
      const limit = Error.stackTraceLimit;
      Error.stackTraceLimit = 40; // deep enough to reach the code behind a library's timer
      Error.captureStackTrace(origin, wrapped); // formatted only if a report reads it
      Error.stackTraceLimit = limit;
      (timer as unknown as Record<symbol, unknown>)[CREATED] = origin;
      if (timers.size > pruneAt) prune();
      timers.add(new WeakRef(timer));
      return timer;
    };
    // Keeps util.promisify.custom and the like.
    Object.defineProperties(wrapped, Object.getOwnPropertyDescriptors(original));
    (globalThis as Record<string, unknown>)[name] = wrapped;
  }
}

function live(t: NodeJS.Timeout | undefined): t is NodeJS.Timeout {
  return !!t && !(t as unknown as { _destroyed?: boolean })._destroyed && t.hasRef();
}

/** The frame that made the timer and, when that is a library, the first frames of ours behind it. */
function originOf(t: NodeJS.Timeout): string {
  const stack = ((t as unknown as Record<symbol, { stack?: string } | undefined>)[CREATED]?.stack ?? "").split("\n").slice(1);
  const frames = stack
    .map((l) => l.trim().replace(/^at /, "").replaceAll(`${process.cwd()}/`, ""))
    .filter((l) => l && !l.startsWith("node:") && !l.includes("(node:") && !l.endsWith("(<anonymous>)"));
  if (!frames.length) return "inside node";
  const ours = frames.slice(1).filter((l) => !l.includes("node_modules/"));
  return [frames[0], ...(frames[0]!.includes("node_modules/") ? ours.slice(0, 4) : frames.slice(1, 4))].join(" < ");
}

/** Names what listens on or connects to `port` (the sandbox, a host, MariaDB) in leak reports. */
export function labelPort(port: number, label: string): void {
  state().portLabels.set(port, label);
}

/** Registers something the support code opened; it is reported by name if still open when the file ends. */
export function trackOpen(what: string, open: () => boolean): void {
  state().probes.add({ what, open });
}

/** Kinds present now beyond the baseline, e.g. ["TCPServerWrap", "Timeout"]. */
function leftoverKinds(): string[] {
  const s = state();
  const out: string[] = [];
  for (const [kind, n] of count(process.getActiveResourcesInfo())) {
    for (let i = s.baseline.get(kind) ?? 0; i < n; i++) out.push(kind);
  }
  return out.sort();
}

function portName(port: number | undefined): string {
  const label = port === undefined ? undefined : state().portLabels.get(port);
  return label ? ` (${label})` : "";
}

function describeHandle(h: object): string | null {
  if (h instanceof Server) {
    const a = h.address();
    const where = a && typeof a === "object" ? `${a.address}:${a.port}` : String(a);
    return `a server listening on ${where}${portName(a && typeof a === "object" ? a.port : undefined)}`;
  }
  if (h instanceof Socket) {
    if (h.remotePort === undefined) return "a pipe or an unconnected socket (a child process's stdio?)";
    const label = portName(h.remotePort) || portName(h.localPort);
    return `a TCP connection ${h.localAddress}:${h.localPort} -> ${h.remoteAddress}:${h.remotePort}${label}`;
  }
  if (h instanceof ChildProcess) return `child process ${h.pid}: ${h.spawnargs.join(" ").slice(0, 160)}`;
  return `a ${h.constructor?.name ?? "handle"}`;
}

/** One line per leftover: what the support code opened and never closed, the handles by name, the timers by origin. */
function describeLeftovers(kinds: string[]): string[] {
  const s = state();
  const lines: string[] = [];
  for (const p of s.probes) if (p.open()) lines.push(`${p.what} was never closed`);
  const handles = activeHandles().filter((h) => !s.baselineHandles.has(h));
  for (const h of handles) {
    const d = describeHandle(h);
    if (d) lines.push(d);
  }
  const timers = kinds.filter((k) => k === "Timeout").length;
  if (timers) {
    const byOrigin = new Map<string, number>();
    for (const r of s.timers) {
      const t = r.deref();
      if (live(t)) byOrigin.set(originOf(t), (byOrigin.get(originOf(t)) ?? 0) + 1);
    }
    let named = 0;
    for (const [origin, n] of byOrigin) {
      named += n;
      lines.push(`${n > 1 ? `${n} ref'd timers` : "a ref'd timer"} (setTimeout/setInterval) made at ${origin}`);
    }
    if (timers > named) lines.push(`${timers - named} more ref'd timer(s) made where the check cannot see (node:timers, node itself)`);
  }
  const other = kinds.filter((k) => !NAMED.test(k));
  if (other.length) lines.push(`also: ${other.join(", ")}`);
  return lines;
}

/** Waits for closes already under way to finish (a socket closing after its server); returns what is still left. */
async function settle(): Promise<string[]> {
  const deadline = Date.now() + SETTLE_MS;
  for (;;) {
    const left = leftoverKinds();
    if (!left.length || Date.now() > deadline) return left;
    // Checked from the timer's callback, so this timer itself is no longer pending.
    await new Promise((r) => setTimeout(r, 25));
  }
}

function release(): void {
  const s = state();
  for (const h of activeHandles()) {
    if (!s.baselineHandles.has(h)) (h as { unref?: () => void }).unref?.();
  }
  for (const r of s.timers) r.deref()?.unref();
  // A timer made out of the check's sight cannot be reached: end the process once the failure is reported.
  setTimeout(() => process.exit(process.exitCode || 1), 2000).unref();
}

async function checkForLeaks(file: string): Promise<void> {
  const left = await settle();
  const open = [...state().probes].filter((p) => p.open());
  if (!left.length && !open.length) return;
  const lines = describeLeftovers(left);
  release();
  const name = relative(process.cwd(), file) || file;
  throw new Error(
    `leak check: ${name} left running after its tests ended:\n  - ${lines.join("\n  - ")}\n` +
      "Close every stack, sandbox, host, database and server the file opens in an after() or finally (test/support/leak-check.ts).",
  );
}

// Only in a test file's process (directly or under `node --test`): the benchmarks and the chaos
// run import the support modules too, and processes a test spawns inherit its environment.
const testFile = process.argv[1] ?? "";
const KEY_HOOK = Symbol.for("zenflow.test.leak-check.hook");
const hooked = globalThis as { [KEY_HOOK]?: boolean };
if (/\.test\.[cm]?[jt]s$/.test(testFile) && !hooked[KEY_HOOK]) {
  hooked[KEY_HOOK] = true;
  recordTimerOrigins(state().timers);
  // A test file is evaluated in one synchronous job, so this microtask runs after the file's own
  // top-level after() calls (this root hook then runs after them) and before its first test can
  // end (a nextTick can come too late: a file loaded as ESM is evaluated inside a promise job).
  queueMicrotask(() => after(() => checkForLeaks(testFile)));
}
