// Backstop for lost webhooks: asks ZenFlow for the state of orders that were sent a while
// ago and are still open, a few per run (5 % of the hourly budget at most) at the lowest
// priority, least recently checked first. A changed state goes through the inbox exactly
// like a webhook, so ordering and dedupe rules are the same.
import type { Binder } from "../id-map/binder";
import type { Clock } from "../core/clock";
import type { ZenflowConfig } from "../core/config";
import { iso } from "../core/clock";
import { isUniqueViolation } from "../core/dialect";
import type { ErpPort } from "../core/erp-port";
import { NotFoundError } from "../core/errors";
import type { JobQueue } from "../outbox/queue";
import { toInboxRow } from "../jobs/inbox-row";
import { entityKey } from "../jobs/keys";
import { Priority } from "../jobs/priorities";
import type { ZenflowClient } from "../zenflow/client";
import { stateOf } from "./apply-order-state";

export interface BackstopDeps {
  binder: Binder;
  client: ZenflowClient;
  erp: ErpPort;
  inbox: JobQueue;
  clock: Clock;
  config: ZenflowConfig;
  onQueued?: () => void;
}

export async function backstop(deps: BackstopDeps, signal?: AbortSignal): Promise<{ checked: number; changed: number }> {
  const { binder, client, erp, inbox, clock } = deps;
  const config = deps.config;
  const now = clock.now();
  const limit = Math.max(1, Math.min(100, Math.floor(config.rateLimitPerHour * 0.05)));
  const rows = await binder.openOrdersToCheck(now - config.backstopMinAgeMinutes * 60_000, limit);
  const finalStatuses = new Set([config.statusMap.Completed, config.statusMap.Cancelled]);
  let checked = 0;
  let changed = 0;
  for (const row of rows) {
    if (signal?.aborted) break;
    await binder.markChecked("order", row.erpId, now);
    const order = await erp.getOrder(row.erpId);
    if (!order || finalStatuses.has(order.status)) continue;
    let status;
    try {
      const about = [{ entityKey: entityKey.order(row.erpId), erpRef: row.erpRef }];
      status = (await client.orders.status(row.zenflowId!, Priority.backstop, about)).data;
    } catch (err) {
      if (err instanceof NotFoundError) continue;
      throw err;
    }
    checked++;
    const state = stateOf("order/updated", status as unknown as Record<string, unknown>);
    if (!state || state === row.remoteState) continue;
    const event = state === "Completed" ? "order/completed" : state === "Cancelled" ? "order/cancelled" : "order/updated";
    const at = status.updated_at ?? iso(now);
    const data = {
      order_id: row.zenflowId,
      order_tenant_id: status.external_id ?? row.erpRef,
      state_id: status.state_id,
      state_name: state,
      updated_at: at,
      source: "backstop",
    };
    const eventId = `backstop:${row.zenflowId}:${status.state_id}:${at}`.slice(0, 128);
    try {
      await inbox.insertUnique(
        toInboxRow(
          {
            eventId,
            event,
            kind: "order",
            entityKey: entityKey.inboxOrder(String(data.order_tenant_id)),
            zenflowCreatedAt: Date.parse(at) || now,
            payload: JSON.stringify({ id: eventId, event, created_at: at, data }),
            priority: Priority.backstop,
          },
          now,
        ),
      );
      changed++;
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
    }
  }
  if (changed) deps.onQueued?.();
  return { checked, changed };
}
