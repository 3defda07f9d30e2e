// What the admin screens, the webhook receiver, actions and the CLI may see of a running
// plugin. Passed as a function so callers always see the current engine (config changes
// rebuild it) without holding on to a stale one.
import type { ZenflowConfig } from "../core/config";
import type { Engine } from "./engine";
import type { ActionResult, HealthReport } from "../core/host-api";
import type { Shared } from "./activation";

export interface PluginView {
  pluginId: string;
  shared: Shared;
  engine: Engine | null;
  config: ZenflowConfig | null;
  configProblem: string | null;
  health(): Promise<HealthReport>;
  runAction(id: string, input?: unknown): Promise<ActionResult>;
}

export type ViewFn = () => PluginView | null;
