// The buttons on the config screen (manifest `actions`): each returns { ok, message } in
// words an admin understands. The same functions serve the dashboard and the CLI.
import { AUTH_ERROR_CODES, AuthError, NetworkError, TimeoutError, describeError } from "../core/errors";
import type { ActionResult } from "../core/host-api";
import { retryAllDeadLetters } from "../outbox/admin-ops";
import { requestRun } from "../core/runs";
import type { Knex } from "knex";
import type { SharedBudget } from "../budget/shared-budget";
import type { Clock } from "../core/clock";
import type { ZenflowConfig } from "../core/config";
import type { History } from "../core/history";
import type { KvStore } from "../core/kv-store";
import { Priority } from "../jobs/priorities";
import { utc } from "./format";
import type { JobQueue } from "../outbox/queue";
import type { ZenflowClient } from "../zenflow/client";

/** The parts of a running sync (the engine) that the actions use. */
export interface RunningSync {
  config: ZenflowConfig;
  budget: Pick<SharedBudget, "clearAuthPause" | "nextAvailableAt">;
  client: Pick<ZenflowClient, "orders">;
  scheduler: { runTask(name: string, force?: boolean): Promise<unknown> };
  notify(): void;
  notifyInbox(): void;
}

export interface ActionDeps {
  db: Knex;
  clock: Clock;
  state: KvStore;
  history: History;
  outbox: Pick<JobQueue, "release">;
  /** The running sync, or null with the reason (unconfigured, could not start). */
  sync(): RunningSync | null;
  configProblem(): string | null;
}

export type Action = (deps: ActionDeps, input?: unknown) => Promise<ActionResult>;

export const actions: Record<string, Action> = {
  "test-connection": testConnection,
  "retry-dead-letters": retryDeadLetters,
  "import-catalog": (deps) => startRun(deps, "import-catalog"),
  "sync-stock": (deps) => startRun(deps, "sync-stock"),
  "sync-stock-anyway": (deps) => startRun(deps, "sync-stock", { ignoreDriftGuard: true }),
  "stock-drift": (deps) => startRun(deps, "stock-drift"),
};

/** Every dead letter back to the queue; the running worker sends them. */
async function retryDeadLetters(deps: ActionDeps): Promise<ActionResult> {
  const { db, clock, history } = deps;
  const s = await retryAllDeadLetters({ db, clock, history });
  const engine = deps.sync();
  engine?.notify();
  engine?.notifyInbox();
  const n = s.retried + s.superseded;
  if (!n) return { ok: true, message: "There are no dead letters to retry.", details: { retried: 0, superseded: 0 } };
  const newer = s.superseded ? ` (${s.superseded} of them already had a newer change waiting, which is sent instead)` : "";
  const how = engine ? "They are being sent now." : "They will be sent once the plugin is configured.";
  return {
    ok: true,
    message: `Retrying ${n} dead letter${n === 1 ? "" : "s"}${newer}. ${how}`,
    details: { retried: s.retried, superseded: s.superseded },
  };
}

async function testConnection(deps: ActionDeps): Promise<ActionResult> {
  const engine = deps.sync();
  if (!engine) return { ok: false, message: deps.configProblem() ?? "The plugin is not configured." };
  try {
    // The admin asked explicitly: lift an auth pause for this probe (a still-bad key
    // pauses again at once). Rate-limit pauses stay in force.
    await engine.budget.clearAuthPause();
    // A probe behind a long pause would hang the admin's button: say so instead.
    const wait = await engine.budget.nextAvailableAt();
    if (wait && wait.at - deps.clock.now() > 5000) {
      return {
        ok: false,
        message: `Sending to ZenFlow is paused until ${utc(wait.at, deps.clock.now())} (${wait.reason}), so the connection was not tested. "Resume sending now" on the ZenFlow dashboard (or \`zenflow-erp resume\`) lifts a pause ZenFlow asked for.`,
        details: { code: "paused" },
      };
    }
    // The cheapest call that proves the key: one order, at the highest priority.
    await engine.client.orders.list({ page: 1, limit: 1 }, Priority.order);
    const released = await deps.outbox.release(AUTH_ERROR_CODES);
    engine.notify();
    const waiting = released ? ` ${released} waiting change${released === 1 ? " is" : "s are"} being sent now.` : "";
    return { ok: true, message: `Connected to ZenFlow at ${engine.config.baseUrl}; the API key is valid and can read orders.${waiting}` };
  } catch (err) {
    if (err instanceof AuthError) {
      const what: Record<string, string> = {
        missing_api_key: "ZenFlow did not receive an API key.",
        invalid_api_key: "ZenFlow does not recognise this API key. Copy it again from ZenFlow (Settings > API Keys).",
        expired_api_key: "This API key has expired. Create a new key in ZenFlow and enter it here.",
        revoked_api_key: "This API key was revoked in ZenFlow. Create a new key and enter it here.",
        insufficient_scope: `The API key is valid but lacks the scope ${err.scope ?? "read:orders"}. Edit the key's scopes in ZenFlow.`,
        ip_not_allowed: "ZenFlow refuses requests from this server's IP address. Add it to the key's IP allow-list in ZenFlow.",
      };
      return { ok: false, message: what[err.zenflowCode] ?? err.message, details: { code: err.zenflowCode } };
    }
    if (err instanceof NetworkError || err instanceof TimeoutError) {
      return {
        ok: false,
        message: `Cannot reach ZenFlow at ${engine.config.baseUrl}: ${describeError(err)}. Check the address and this server's internet access.`,
        details: { code: err.code },
      };
    }
    return { ok: false, message: `ZenFlow answered unexpectedly: ${describeError(err)}` };
  }
}

const STARTED: Record<"import-catalog" | "sync-stock" | "stock-drift", string> = {
  "import-catalog": "Catalog import started. Orders keep priority while it runs; follow its progress on the ZenFlow dashboard.",
  "sync-stock": "Full stock sync started. Orders keep priority while it runs; follow its progress on the ZenFlow dashboard.",
  "stock-drift":
    "Stock drift report started: it compares every level and writes nothing, reading ZenFlow after all other work. See it on the ZenFlow dashboard (Stock drift).",
};

/**
 * Records the request (so it survives restarts and any process may run it) and starts it in
 * this process at once if no other process is already on it. Progress is on the dashboard.
 */
async function startRun(
  deps: ActionDeps,
  name: "import-catalog" | "sync-stock" | "stock-drift",
  extra: { ignoreDriftGuard?: boolean } = {},
): Promise<ActionResult> {
  const engine = deps.sync();
  if (!engine) return { ok: false, message: deps.configProblem() ?? "The plugin is not configured." };
  if (name === "sync-stock" && engine.config.stockSource === "none") {
    return { ok: false, message: "Stock is not synchronised: set 'Who owns stock levels' to erp or zenflow first." };
  }
  await requestRun(deps.state, name, "admin", deps.clock.now(), extra);
  void engine.scheduler.runTask(name, false).catch(() => undefined);
  const once = extra.ignoreDriftGuard ? " The drift guard is ignored for this run only." : "";
  return { ok: true, message: `${STARTED[name]}${once}` };
}
