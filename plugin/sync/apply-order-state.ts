// Synchronizer: ZenFlow order state → ERP, from stored webhooks (and backstop checks).
//   order/updated   → ctx.erp.orders.setStatus through the status map
//   order/completed → markShipped with tracking and time when ZenFlow sends them, else the mapped status
//   order/cancelled → cancel with ZenFlow's reason
// Events of one order apply in order: each carries a ZenFlow time, and one older than the
// state already applied changes nothing. A short per-order lease keeps two processes from
// interleaving their ERP writes for the same order.
import type { ZenflowConfig, ZenflowStateName } from "../core/config";
import { ZENFLOW_STATES, stateRank } from "../core/config";
import { isUniqueViolation } from "../core/dialect";
import { ErpError, type ErpPort } from "../core/erp-port";
import { ContentionError, describeError } from "../core/errors";
import type { ErpOrder } from "../core/host-api";
import type { Binder } from "../id-map/binder";
import type { Leases } from "../core/leases";
import { leaseName } from "../jobs/keys";
import type { QueueJob } from "../outbox/queue";
import type { JobResult, SyncHandler } from "../outbox/worker";
import { type Envelope, envelopeSchema, instant, normalizeEvent } from "../webhooks/envelope";

const STATE_BY_ID: Record<number, ZenflowStateName> = { 1: "Pending", 2: "In Progress", 3: "Packed", 4: "Completed", 5: "Cancelled" };

export interface OrderStateDeps {
  erp: ErpPort;
  binder: Binder;
  leases: Leases;
  workerId: string;
  config: ZenflowConfig;
}

/** The ZenFlow state an event means: by name (preferred: ids may not be stable), else by id. */
export function stateOf(event: string, data: Record<string, unknown>): ZenflowStateName | null {
  if (event === "order/completed") return "Completed";
  if (event === "order/cancelled") return "Cancelled";
  const name = typeof data.state_name === "string" ? data.state_name.trim() : "";
  const byName = ZENFLOW_STATES.find((s) => s.toLowerCase() === name.toLowerCase());
  if (byName) return byName;
  const id = typeof data.state_id === "number" ? data.state_id : Number(data.state_id);
  return STATE_BY_ID[id] ?? null;
}

export function createOrderStateApplier(deps: OrderStateDeps): SyncHandler {
  const { erp, binder, leases } = deps;

  async function run(jobs: QueueJob[]): Promise<Map<number, JobResult>> {
    const results = new Map<number, JobResult>();
    // One order's events run one after the other, oldest first; orders run side by side.
    const byEntity = new Map<string, { job: QueueJob; env: Envelope | null; at: number; rank: number }[]>();
    for (const job of jobs) {
      const env = parseEnvelope(job.payload);
      const at = env ? (instant(env.data.updated_at) ?? instant(env.created_at) ?? job.createdAt) : job.createdAt;
      const key = job.entityKey ?? `job:${job.id}`;
      const rank = env ? stateRank(stateOf(normalizeEvent(env.event), env.data) ?? "") : 0;
      byEntity.set(key, [...(byEntity.get(key) ?? []), { job, env, at, rank }]);
    }
    await Promise.all(
      [...byEntity].map(async ([entity, items]) => {
        // The order they are applied in is the order supersedes() ranks them: time, rank, event id.
        items.sort((a, b) => a.at - b.at || a.rank - b.rank || compare(a.env?.id ?? "", b.env?.id ?? "") || a.job.id - b.job.id);
        const lease = leaseName.inboxEntity(entity);
        if (!(await leases.tryAcquire(lease, deps.workerId, 30_000))) {
          for (const i of items)
            results.set(i.job.id, {
              type: "failed",
              error: new ContentionError(`another ERP process is applying ZenFlow changes to ${entity}`),
            });
          return;
        }
        try {
          for (const [n, i] of items.entries()) {
            try {
              results.set(i.job.id, await applyOne(i.env, i.at));
            } catch (error) {
              // This event and the later ones of the same order wait: they must apply in order.
              for (const later of items.slice(n)) results.set(later.job.id, { type: "failed", error });
              break;
            }
          }
        } finally {
          await leases.release(lease, deps.workerId).catch(() => undefined);
        }
      }),
    );
    return results;
  }

  async function applyOne(env: Envelope | null, at: number): Promise<JobResult> {
    if (!env) return { type: "dead", code: "malformed", message: "The stored webhook cannot be read" };
    const event = normalizeEvent(env.event);
    const d = env.data;
    const zid = d.order_id === undefined || d.order_id === null ? null : String(d.order_id);
    const tenant = typeof d.order_tenant_id === "string" ? d.order_tenant_id : null;
    const label = `ZenFlow order ${zid ?? "?"}${tenant ? ` (${tenant})` : ""}`;

    const order = await findOrder(zid, tenant);
    if (!order) {
      // Kept and visible on the dashboard, never retried in a loop.
      return { type: "dead", status: "unmatched", code: "unmatched", message: `${label} does not match any ERP order` };
    }
    const state = stateOf(event, d);
    if (!state)
      return {
        type: "dead",
        status: "ignored",
        code: "unknown_state",
        message: `${label}: unknown ZenFlow state ${JSON.stringify(d.state_name ?? d.state_id)}`,
      };

    if (!(await binder.advanceRemoteState("order", order.id, { state, at, eventId: env.id, rank: stateRank(state), rankOf: stateRank }))) {
      return {
        type: "done",
        outcome: "ignored",
        message: `${label}: "${state}" is not newer than the state already applied (same time or older); the order keeps that state`,
      };
    }
    const config = deps.config;
    try {
      return await applyState(order, state, d, env, label, config);
    } catch (err) {
      const code = err instanceof ErpError ? err.code : null;
      if (code === "conflict") {
        const note = `ZenFlow reports the order as ${state}, but the ERP refused the change: ${describeError(err)}`;
        await erp.addNote(order.id, note);
        return {
          type: "done",
          outcome: "refused",
          message: `${label}: the ERP refused "${state}" (${describeError(err)}); a note was added`,
          notes: [note],
        };
      }
      if (code === "invalid") {
        return {
          type: "dead",
          code: "invalid",
          message: `${label}: the ERP rejected "${state}" → "${config.statusMap[state] ?? "?"}" (${describeError(err)}). Check the setting "ZenFlow state → ERP status".`,
        };
      }
      if (code === "not_found")
        return {
          type: "dead",
          status: "unmatched",
          code: "unmatched",
          message: `${label}: the ERP order ${order.number} no longer exists`,
        };
      throw err;
    }
  }

  async function applyState(
    order: ErpOrder,
    state: ZenflowStateName,
    d: Record<string, unknown>,
    env: Envelope,
    label: string,
    config: ZenflowConfig,
  ): Promise<JobResult> {
    const str = (v: unknown) => (typeof v === "string" && v.trim() ? v.trim() : undefined);
    if (state === "Cancelled") {
      const reason = [str(d.cancellation_reason), str(d.cancelled_by) ? `by ${str(d.cancelled_by)}` : undefined].filter(Boolean).join(" ");
      await erp.cancelOrder(order.id, `Cancelled in ZenFlow${reason ? `: ${reason}` : ""}`);
      return { type: "done", outcome: "applied", message: `${label}: cancelled in the ERP` };
    }
    const tracking = str(d.tracking_number);
    if (state === "Completed" && tracking) {
      const shippedAt = str(d.shipped_at) ?? str(d.updated_at) ?? env.created_at;
      await erp.markShipped(order.id, { shippedAt, trackingNumber: tracking, carrier: str(d.carrier) });
      return { type: "done", outcome: "applied", message: `${label}: shipped, tracking ${tracking}` };
    }
    const status = config.statusMap[state];
    if (!status)
      return {
        type: "done",
        outcome: "ignored",
        message: `${label}: "${state}" is not mapped to an ERP status (settings: ZenFlow state → ERP status)`,
      };
    await erp.setOrderStatus(order.id, status, `ZenFlow: ${state}`);
    return { type: "done", outcome: "applied", message: `${label}: ERP status set to ${status} (${state})` };
  }

  /** Through the binder; else by order number, binding it for next time. */
  async function findOrder(zid: string | null, tenant: string | null): Promise<ErpOrder | null> {
    const bound = zid ? await binder.toInternal("order", zid) : null;
    if (bound) {
      const o = await erp.getOrder(bound.erpId);
      if (o) return o;
    }
    if (!tenant) return null;
    const o = await erp.findOrderByNumber(tenant);
    if (!o) return null;
    const existing = await binder.toExternal("order", o.id);
    if (!existing?.zenflowId && zid) {
      await binder.bind("order", { erpId: o.id, zenflowId: zid, erpRef: o.number }).catch((err) => {
        if (!isUniqueViolation(err)) throw err;
      });
    } else if (!existing) {
      await binder.bind("order", { erpId: o.id, erpRef: o.number });
    }
    return o;
  }

  return { kind: "order", run };
}

/** The inbox stores the raw body; the queue hands it over parsed. */
export function parseEnvelope(payload: unknown): Envelope | null {
  const r = envelopeSchema.safeParse(payload);
  return r.success ? r.data : null;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
