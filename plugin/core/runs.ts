// Work an admin asks for (from the config screen's actions, the dashboard or the CLI),
// recorded in the database so that whichever ERP process holds the task's lease runs it,
// and progress that every process, the dashboard and the CLI can read.
import type { StateStore } from "./kv-store";

export type RunName = "import-catalog" | "sync-stock" | "reconcile-orders";

export interface RunRequest {
  requestedAt: number;
  by: string;
}

export interface Progress {
  status: "running" | "done" | "failed" | "paused";
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

export async function requestRun(state: StateStore, name: RunName, by: string, now: number): Promise<void> {
  await state.set(`request:${name}`, { requestedAt: now, by } satisfies RunRequest);
}

export async function pendingRequest(state: StateStore, name: RunName): Promise<RunRequest | null> {
  return state.get<RunRequest>(`request:${name}`);
}

export async function clearRequest(state: StateStore, name: RunName): Promise<void> {
  await state.delete(`request:${name}`);
}

export async function readProgress(state: StateStore, name: RunName): Promise<Progress | null> {
  return state.get<Progress>(`progress:${name}`);
}

export async function writeProgress(state: StateStore, name: RunName, p: Progress): Promise<void> {
  await state.set(`progress:${name}`, p);
}
