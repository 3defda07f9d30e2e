// Work an admin asks for (from the config screen's actions, the dashboard or the CLI),
// recorded in the database so that whichever ERP process holds the task's lease runs it,
// and progress that every process, the dashboard and the CLI can read.
import { type KvStore, kvKey } from "./kv-store";

export type RunName = "import-catalog" | "sync-stock" | "reconcile-orders" | "stock-drift" | "plan";

export interface RunRequest {
  requestedAt: number;
  by: string;
  /** sync-stock only: run once even if the drift guard would stop it (action sync-stock-anyway). */
  ignoreDriftGuard?: boolean;
}

export interface Progress {
  /** stopped: the run ended on purpose before writing (the stock drift guard); `message` says why. */
  status: "running" | "done" | "failed" | "paused" | "stopped";
  startedAt: number;
  updatedAt: number;
  done: number;
  total: number | null;
  errors: number;
  /** Requests sent to ZenFlow by this run. */
  requests?: number;
  /** Milliseconds left, estimated from the rate so far. */
  etaMs?: number | null;
  message?: string;
}

const requestKey = (name: RunName) => kvKey<RunRequest>(`request:${name}`);
const progressKey = (name: RunName) => kvKey<Progress>(`progress:${name}`);

export async function requestRun(
  state: KvStore,
  name: RunName,
  by: string,
  now: number,
  extra: Pick<RunRequest, "ignoreDriftGuard"> = {},
): Promise<void> {
  await state.set(requestKey(name), { requestedAt: now, by, ...extra });
}

export async function pendingRequest(state: KvStore, name: RunName): Promise<RunRequest | null> {
  return state.get(requestKey(name));
}

export async function clearRequest(state: KvStore, name: RunName): Promise<void> {
  await state.delete(requestKey(name));
}

export async function readProgress(state: KvStore, name: RunName): Promise<Progress | null> {
  return state.get(progressKey(name));
}

export async function clearProgress(state: KvStore, name: RunName): Promise<void> {
  await state.delete(progressKey(name));
}

export async function writeProgress(state: KvStore, name: RunName, p: Progress): Promise<void> {
  await state.set(progressKey(name), p);
}
