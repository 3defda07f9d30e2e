// Scheduled: keeps exactly one ZenFlow webhook subscription pointing at us (hourly, and at
// every start: a new key, URL or stock source may need another one). A failure is kept
// for health to show; order states then only arrive through the status backstop.
import type { Clock } from "../../core/clock";
import type { ZenflowConfig } from "../../core/config";
import { AuthError, describeError } from "../../core/errors";
import type { PluginLogger } from "../../core/host-api";
import type { KvStore } from "../../core/kv-store";
import { WEBHOOK_PROBLEM_KEY, ensureSubscription } from "../../webhooks/registration";
import type { ZenflowClient } from "../../zenflow/client";
import type { ScheduledTask } from "../scheduler";

export const WEBHOOK_SUBSCRIPTION_TASK = "webhook-subscription";

export interface WebhookSubscriptionDeps {
  client: ZenflowClient;
  state: KvStore;
  config: ZenflowConfig;
  publicUrl: string;
  clock: Clock;
  log: PluginLogger;
}

export function webhookSubscriptionTask(deps: WebhookSubscriptionDeps): ScheduledTask {
  return {
    name: WEBHOOK_SUBSCRIPTION_TASK,
    every: () => ({ intervalMs: 60 * 60_000 }),
    async run() {
      try {
        await ensureSubscription(deps);
        await deps.state.delete(WEBHOOK_PROBLEM_KEY);
      } catch (err) {
        await deps.state.set(WEBHOOK_PROBLEM_KEY, {
          at: deps.clock.now(),
          message: describeError(err),
          scope: err instanceof AuthError ? err.scope : undefined,
        });
        throw err;
      }
    },
  };
}
