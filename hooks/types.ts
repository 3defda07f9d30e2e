// What an ERP event handler may use: record work and log. Nothing here talks to ZenFlow.
import type { JobRecorder } from "../plugin/jobs/job";
import type { PluginLogger } from "../plugin/core/host-api";
import type { ZenflowConfig } from "../plugin/core/config";

export interface HookDeps {
  pluginId: string;
  recorder: JobRecorder;
  log: PluginLogger;
  /** The current valid config, or null while the plugin is unconfigured. */
  config: () => ZenflowConfig | null;
}

/** Changes the plugin itself made through ctx.erp come back as events; they must not echo. */
export function isOwnEcho(deps: HookDeps, meta: { origin?: string } | undefined): boolean {
  return meta?.origin === deps.pluginId;
}
