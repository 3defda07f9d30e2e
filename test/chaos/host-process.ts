// One ERP process: the reference host (dev/host/main.ts) as a separate OS process, loading
// the built plugin from dist/ exactly as a production ERP would. It keeps its port across
// restarts so the driver and the load balancer can keep using the same address.
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, type WriteStream } from "node:fs";
import net from "node:net";
import { join } from "node:path";

const ROOT = join(__dirname, "..", "..");

export interface HostProcessOptions {
  name: string;
  port: number;
  /** Everything else main.ts reads: DATABASE_URL, ERP_ADMIN_TOKEN, PUBLIC_BASE_URL, PLUGIN_CONFIG … */
  env: Record<string, string>;
  logFile: string;
  startTimeoutMs?: number;
}

export class HostProcess {
  readonly url: string;
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private log: WriteStream;
  starts = 0;
  kills = 0;

  constructor(private readonly opts: HostProcessOptions) {
    this.url = `http://127.0.0.1:${opts.port}`;
    this.log = createWriteStream(opts.logFile, { flags: "a" });
  }

  get name(): string {
    return this.opts.name;
  }

  /** The process runs and its plugin is active. A host listens (and accepts ERP changes) a moment
   * before its plugin is enabled: changes in that moment emit no plugin events, so traffic, as
   * from a load balancer with a readiness check, only goes to ready processes. */
  ready = false;

  get alive(): boolean {
    return this.child !== null;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the process and resolves once it printed its "ERP host ready" line. */
  async start(extraEnv: Record<string, string> = {}): Promise<void> {
    if (this.child) throw new Error(`${this.name} is already running`);
    this.starts++;
    const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "dev", "host", "main.ts")], {
      cwd: ROOT,
      env: { ...process.env, ...this.opts.env, ...extraEnv, PORT: String(this.opts.port), PROCESS_NAME: this.name },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child = child;
    this.log.write(`\n### ${new Date().toISOString()} start #${this.starts} pid ${child.pid}\n`);
    child.stdout!.pipe(this.log, { end: false });
    child.stderr!.pipe(this.log, { end: false });
    this.exited = new Promise((resolve) =>
      child.once("exit", (code, signal) => {
        this.log.write(`### ${new Date().toISOString()} exit code=${code} signal=${signal}\n`);
        if (this.child === child) {
          this.child = null;
          this.ready = false;
        }
        resolve();
      }),
    );
    await new Promise<void>((resolve, reject) => {
      let buf = "";
      const timer = setTimeout(
        () => fail(new Error(`${this.name} did not become ready in time (see ${this.opts.logFile})`)),
        this.opts.startTimeoutMs ?? 60_000,
      );
      const onData = (chunk: Buffer) => {
        buf += chunk.toString("utf8");
        let nl: number;
        while ((nl = buf.indexOf("\n")) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (line.includes('"ERP host ready"')) {
            cleanup();
            this.ready = true;
            resolve();
            return;
          }
        }
      };
      const onExit = () => fail(new Error(`${this.name} exited during start-up (see ${this.opts.logFile})`));
      const cleanup = () => {
        clearTimeout(timer);
        child.stdout!.off("data", onData);
        child.off("exit", onExit);
      };
      const fail = (err: Error) => {
        cleanup();
        child.kill("SIGKILL");
        reject(err);
      };
      child.stdout!.on("data", onData);
      child.once("exit", onExit);
    });
  }

  /** SIGKILL: no deactivate(), no lease released, connections cut mid-request. */
  async kill(): Promise<void> {
    if (!this.child) return;
    this.kills++;
    this.ready = false;
    this.child.kill("SIGKILL");
    await this.exited;
  }

  /** Graceful stop (SIGTERM runs deactivate()); SIGKILL if it takes longer than `graceMs`. */
  async stop(graceMs = 20_000): Promise<void> {
    if (!this.child) return;
    const child = this.child;
    this.ready = false;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  async close(): Promise<void> {
    await this.stop();
    await new Promise<void>((resolve) => this.log.end(() => resolve()));
  }
}

/** A port that is free now (the OS picks it); the host binds it a moment later. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}
