// CLI: starts a sandbox for demos and manual runs.
//   PORT (default 4010), SANDBOX_KEY (adds that admin key), SANDBOX_HOST (default 127.0.0.1)
import { DEFAULT_KEY, startSandbox } from "./index";
import type { SandboxKey } from "./types";

async function main(): Promise<void> {
  const keys: SandboxKey[] = [{ key: DEFAULT_KEY, scopes: ["admin"] }];
  const extra = process.env.SANDBOX_KEY;
  if (extra && extra !== DEFAULT_KEY) keys.push({ key: extra, scopes: ["admin"] });
  const sandbox = await startSandbox({
    port: Number(process.env.PORT ?? 4010),
    host: process.env.SANDBOX_HOST ?? "127.0.0.1",
    keys,
  });
  // Keys are shown by their last 4 characters only (never log a whole key).
  const labels = keys.map((k) => `…${k.key.slice(-4)}`).join(", ");
  process.stdout.write(
    `ZenFlow sandbox listening\n  API:       ${sandbox.url}\n  Dashboard: ${sandbox.origin}/__sandbox/\n  Keys:      ${labels} (admin)\n`,
  );
  const stop = (signal: string) => {
    process.stdout.write(`\n${signal}: stopping sandbox\n`);
    void sandbox.close().then(() => process.exit(0));
  };
  process.once("SIGINT", () => stop("SIGINT"));
  process.once("SIGTERM", () => stop("SIGTERM"));
}

main().catch((err: unknown) => {
  process.stderr.write(`sandbox failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
