// CLI: one ERP process. Several of these on one DATABASE_URL are how multi-process and chaos
// tests run the plugin.
//   DATABASE_URL   sqlite:/path/erp.sqlite (default sqlite:./var/erp.sqlite) or mysql://root@127.0.0.1:3306/erp
//   PORT           default 3000 (0 = any free port)
//   LISTEN_HOST    default 127.0.0.1
//   PLUGIN_DIR     folder with manifest.json; default the repository root
//   ERP_ADMIN_TOKEN  admin secret; random (and printed as a login URL) when unset
//   PUBLIC_BASE_URL  external base URL, e.g. a tunnel; default http://127.0.0.1:<port>
//   PLUGIN_CONFIG  JSON config saved before enabling
//   PROCESS_NAME   shown in logs; ERP_SECRET_KEY, LOG_LEVEL, CONFIG_POLL_MS, HEALTH_POLL_MS
import { resolve } from "node:path";
import { startHost, type Host } from "./index";
import { defaultLogger } from "./logger";

function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got "${raw}"`);
  return n;
}

async function main(): Promise<void> {
  const processName = process.env.PROCESS_NAME ?? `erp-${process.pid}`;
  const log = defaultLogger(processName);
  const generatedToken = !process.env.ERP_ADMIN_TOKEN;
  let pluginConfig: Record<string, unknown> | undefined;
  if (process.env.PLUGIN_CONFIG) {
    const parsed: unknown = JSON.parse(process.env.PLUGIN_CONFIG);
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("PLUGIN_CONFIG must be a JSON object");
    pluginConfig = parsed as Record<string, unknown>;
  }

  const host: Host = await startHost({
    databaseUrl: process.env.DATABASE_URL ?? "sqlite:./var/erp.sqlite",
    pluginDir: resolve(process.env.PLUGIN_DIR ?? resolve(__dirname, "..", "..")),
    port: intFromEnv("PORT", 3000),
    ...(process.env.LISTEN_HOST ? { listenHost: process.env.LISTEN_HOST } : {}),
    ...(process.env.PUBLIC_BASE_URL ? { publicBaseUrl: process.env.PUBLIC_BASE_URL } : {}),
    ...(process.env.ERP_ADMIN_TOKEN ? { adminToken: process.env.ERP_ADMIN_TOKEN } : {}),
    logger: log,
    processName,
    configPollMs: intFromEnv("CONFIG_POLL_MS", 500),
    healthPollMs: intFromEnv("HEALTH_POLL_MS", 30_000),
  });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      log.warn({ signal }, "second signal: exiting now");
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, "shutting down: deactivating the plugin");
    // close() disables the plugin with the contract's 30 s deadline; the timer is a last resort.
    const force = setTimeout(() => {
      log.error("shutdown took too long: exiting");
      process.exit(1);
    }, 40_000);
    force.unref();
    host.close().then(
      () => {
        log.info("stopped");
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));

  try {
    if (pluginConfig) {
      const saved = await host.saveConfig(pluginConfig);
      if (!saved.ok) throw new Error(`PLUGIN_CONFIG refused: ${saved.errors.join("; ")}`);
    }
    await host.enable();
  } catch (err) {
    await host.close().catch(() => undefined);
    throw err;
  }
  const id = host.manifest.id;
  // Written directly (not through the logger) so that LOG_LEVEL=warn still prints it: scripts
  // that start several processes read the URL from this line. Same JSON shape as pino's lines.
  const ready = {
    level: 30,
    time: Date.now(),
    pid: process.pid,
    process: processName,
    msg: "ERP host ready",
    url: host.url,
    admin: `${host.url}/admin`,
    pluginManager: `${host.url}/admin/plugin-manager/${id}`,
    pluginPublic: host.ctx.http.publicUrl,
    pluginAdmin: `${host.url}/admin/plugins/${id}/`,
    // Only a generated token is printed: an operator who set ERP_ADMIN_TOKEN knows it.
    ...(generatedToken ? { login: `${host.url}/admin/login?token=${encodeURIComponent(host.adminToken)}` } : {}),
  };
  process.stdout.write(`${JSON.stringify(ready)}\n`);
}

main().catch((err: unknown) => {
  // Printed plainly as well: a refused manifest should be readable without a log viewer.
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
