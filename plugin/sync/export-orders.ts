// Synchronizer: ERP order → ZenFlow. A job names one ERP order; what to do is decided
// from the order's current state in the ERP and the binder, so any number of coalesced
// events, a retry or a reconciliation all converge on the same result:
//   not in ZenFlow + eligible status → create (batched, idempotent by order_tenant_id)
//   in ZenFlow + header changed      → PUT /orders/:id
//   cancelled in the ERP             → POST /orders/:id/cancel (a note in the ERP if refused)
import { ORDER_KIND, type OrderJobPayload, orderJob, orderJobPayloadSchema } from "../jobs/order-job";
import type { ZenflowConfig } from "../core/config";
import { erpCancelledStatus, stateRank } from "../core/config";
import type { Clock } from "../core/clock";
import { NotFoundError, RejectedError, describeError } from "../core/errors";
import type { ErpOrder } from "../core/host-api";
import { type Binder, type Binding, type EarlierAttempts, MIXED } from "../id-map/binder";
import { isUniqueViolation } from "../core/dialect";
import { type MappedOrder, headerPatch, orderLabel, toZenflowOrder } from "../mapping/to-zenflow-order";
import type { EventLog } from "../outbox/event-log";
import type { QueueJob } from "../outbox/queue";
import type { JobResult, PlannedRequest, SyncHandler } from "../outbox/worker";
import type { ZenflowClient } from "../zenflow/client";
import type { CreateOrdersResult } from "../zenflow/schemas";
import type { ErpPort } from "../core/erp-port";
import { chunksOf } from "../core/chunks";
import type { RequestSubject } from "../core/request-log";
import { entityKey } from "../jobs/keys";
import { Priority } from "../jobs/priorities";

export interface OrderExporterDeps {
  client: ZenflowClient;
  binder: Binder;
  erp: ErpPort;
  config: ZenflowConfig;
  clock: Clock;
  /** For follow-up jobs (an order ZenFlow already had gets our header with a PUT). */
  log: EventLog;
}

interface CreateItem {
  job: QueueJob;
  order: ErpOrder;
  mapped: MappedOrder;
  /** What earlier creates of this order carried (null: this is the first). */
  earlier: EarlierAttempts | null;
}

export function createOrderExporter(deps: OrderExporterDeps): SyncHandler {
  const { client, binder, erp } = deps;

  /**
   * What each job needs, read-only: settled without a request (gone, unreadable, not sent),
   * a create, a header update or a cancellation. `run` acts on it and the plan view
   * (admin/send-plan.ts) counts the requests it implies, so the two cannot disagree.
   */
  async function classify(jobs: QueueJob[]): Promise<OrderWork> {
    const config = deps.config;
    const work: OrderWork = { results: new Map(), creates: [], updates: [], cancels: [] };
    const { results } = work;
    const parsed: { job: QueueJob; payload: OrderJobPayload; order: ErpOrder }[] = [];
    await Promise.all(
      jobs.map(async (job) => {
        const p = orderJobPayloadSchema.safeParse(job.payload);
        if (!p.success) {
          results.set(job.id, {
            type: "dead",
            code: "invalid_record",
            message: `${job.erpRef ?? "Order"}: the stored change is unreadable and cannot be sent`,
          });
          return;
        }
        const order = await erp.getOrder(p.data.orderId);
        if (!order)
          results.set(job.id, { type: "done", outcome: "noop", message: `${job.erpRef ?? p.data.orderId} no longer exists in the ERP` });
        else parsed.push({ job, payload: p.data, order });
      }),
    );
    // In claim order, whatever order the ERP answered in: batches are cut from this list.
    const rank = new Map(jobs.map((j, i) => [j.id, i]));
    parsed.sort((a, b) => rank.get(a.job.id)! - rank.get(b.job.id)!);
    const bindings = await binder.toExternalMany(
      "order",
      parsed.map((p) => p.order.id),
    );
    for (const { job, payload, order } of parsed) {
      const binding = bindings.get(order.id) ?? null;
      const cancelled = !!payload.cancel || order.status === erpCancelledStatus(config);
      if (cancelled) {
        work.cancels.push({ job, order, binding, reason: payload.cancel?.reason, action: cancelAction(binding) });
        continue;
      }
      let mapped: MappedOrder;
      try {
        mapped = toZenflowOrder(order);
      } catch (err) {
        results.set(job.id, { type: "dead", code: "invalid_record", message: describeError(err) });
        continue;
      }
      if (binding?.zenflowId) {
        work.updates.push({ job, order, binding, mapped, action: updateAction(binding, mapped) });
      } else if (config.eligibleStatuses.includes(String(order.status))) {
        work.creates.push({ job, order, mapped, earlier: null });
      } else {
        results.set(job.id, {
          type: "done",
          outcome: "noop",
          message: `${orderLabel(order)} has status "${String(order.status)}", which is not sent to ZenFlow (settings: ERP order statuses to send)`,
        });
      }
    }
    return work;
  }

  /** The create batches of a classification, as they are sent. */
  const createBatches = (creates: CreateItem[]) => chunksOf(creates, deps.config.orderBatchSize);

  async function plan(jobs: QueueJob[]): Promise<PlannedRequest[]> {
    const work = await classify(jobs);
    return [
      ...createBatches(work.creates).map((chunk) => ({
        endpoint: "POST /orders",
        priority: Priority.order,
        jobIds: chunk.map((c) => c.job.id),
      })),
      ...work.updates
        .filter((u) => u.action === "put")
        .map((u) => ({ endpoint: "PUT /orders/:id", priority: Priority.order, jobIds: [u.job.id] })),
      ...work.cancels
        .filter((c) => c.action === "request")
        .map((c) => ({ endpoint: "POST /orders/:id/cancel", priority: Priority.cancel, jobIds: [c.job.id] })),
    ];
  }

  async function run(jobs: QueueJob[]): Promise<Map<number, JobResult>> {
    const work = await classify(jobs);
    const { results, creates } = work;
    // One request failing settles its own job only: the others' answers are kept (ZenFlow
    // accepted them; sending them again would spend budget and an attempt for nothing).
    const settle = (job: QueueJob, run: Promise<JobResult>) =>
      run.then(
        (r) => void results.set(job.id, r),
        (error: unknown) => void results.set(job.id, { type: "failed", error }),
      );
    const singles: Promise<void>[] = [
      ...work.cancels.map((c) => settle(c.job, cancelOrder(c.order, c.binding, c.reason, c.action))),
      ...work.updates.map((u) => settle(u.job, updateOrder(u.order, u.binding, u.mapped, u.action))),
    ];
    if (creates.length) {
      const earlier = await binder.markAttempted(
        "order",
        creates.map((c) => ({
          erpId: c.order.id,
          erpRef: c.mapped.payload.order_tenant_id,
          sentHash: c.mapped.headerHash,
          sentAuxHash: c.mapped.linesHash,
        })),
      );
      for (const c of creates) c.earlier = earlier.get(c.order.id) ?? null;
      singles.push(
        ...createBatches(creates).map((chunk) =>
          sendCreates(chunk, results).catch((error: unknown) => {
            for (const item of chunk) if (!results.has(item.job.id)) results.set(item.job.id, { type: "failed", error });
          }),
        ),
      );
    }
    await Promise.all(singles);
    return results;
  }

  /** Sends one batch; on a validation rejection isolates the offending orders instead of failing the batch. */
  async function sendCreates(items: CreateItem[], results: Map<number, JobResult>): Promise<void> {
    let res: CreateOrdersResult;
    try {
      res = (
        await client.orders.create(
          items.map((i) => i.mapped.payload),
          Priority.order,
          items.map((i) => subjectOf(i.order)),
        )
      ).data;
    } catch (err) {
      if (err instanceof RejectedError && !(err instanceof NotFoundError) && items.length > 1) {
        const culprits = culpritIndexes(err, items.length);
        if (culprits.size && culprits.size < items.length) {
          for (const i of culprits) results.set(items[i]!.job.id, rejectedResult(items[i]!.order, err, i));
          await sendCreates(
            items.filter((_, i) => !culprits.has(i)),
            results,
          );
        } else {
          const mid = Math.ceil(items.length / 2);
          await sendCreates(items.slice(0, mid), results);
          await sendCreates(items.slice(mid), results);
        }
        return;
      }
      for (const item of items)
        results.set(item.job.id, err instanceof RejectedError ? rejectedResult(item.order, err) : { type: "failed", error: err });
      return;
    }
    await bindCreated(items, res, results);
  }

  async function bindCreated(items: CreateItem[], res: CreateOrdersResult, results: Map<number, JobResult>): Promise<void> {
    const byTenant = new Map<string, string>();
    const existing = new Set<string>();
    res.orders.forEach((o, i) => {
      const id = o.id ?? o.order_id;
      // The per-order shape is undocumented: match by order_tenant_id, else by position.
      const tenant = o.order_tenant_id ?? (res.orders.length === items.length ? items[i]?.mapped.payload.order_tenant_id : undefined);
      if (id && tenant) byTenant.set(tenant, id);
      // "existing": ZenFlow already had this order — with the header it had then, not ours.
      // Without a per-order status, any existing_count makes every order of the batch suspect.
      if (tenant && (o.status === "existing" || (o.status === undefined && (res.existing_count ?? 0) > 0))) existing.add(tenant);
    });
    const followUps: CreateItem[] = [];
    const rejected = new Map<string, string>();
    for (const e of res.errors ?? []) if (e.order_tenant_id) rejected.set(e.order_tenant_id, e.error ?? e.message ?? "rejected");

    for (const item of items) {
      const tenant = item.mapped.payload.order_tenant_id;
      const zenflowId = byTenant.get(tenant);
      if (rejected.has(tenant)) {
        results.set(item.job.id, {
          type: "dead",
          code: "rejected",
          message: `${orderLabel(item.order)}: ZenFlow rejected it — ${rejected.get(tenant)}`,
        });
        continue;
      }
      if (!zenflowId) {
        // Re-posting is safe (idempotent by order_tenant_id) and returns the id next time.
        results.set(item.job.id, {
          type: "failed",
          error: new Error(`ZenFlow accepted ${orderLabel(item.order)} but did not return its id; asking again`),
        });
        continue;
      }
      const known = existing.has(tenant);
      // ZenFlow's copy is ours when every earlier create of the order carried today's header
      // (its answer was lost); a first attempt answered "existing" met an order made in ZenFlow.
      const ours = known && item.earlier?.header === item.mapped.headerHash;
      const stale = known && !ours;
      try {
        await binder.bind("order", {
          erpId: item.order.id,
          zenflowId,
          erpRef: tenant,
          // For an order ZenFlow already had with another header: no hash, so the follow-up
          // job sends ours with PUT /orders/:id.
          payloadHash: stale ? null : item.mapped.headerHash,
          auxHash: !known ? item.mapped.linesHash : knownLines(item.earlier),
          sentHash: null,
          sentAuxHash: null,
        });
        if (stale) followUps.push(item);
        results.set(item.job.id, {
          type: "done",
          outcome: "sent",
          zenflowId,
          message: stale
            ? `${orderLabel(item.order)} already existed as ZenFlow order ${zenflowId}; its ship-by date, customer and address are brought up to date next`
            : ours
              ? `${orderLabel(item.order)} is ZenFlow order ${zenflowId} (created by an earlier attempt whose answer was lost)`
              : `${orderLabel(item.order)} is ZenFlow order ${zenflowId}`,
        });
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
        const other = await binder.toInternal("order", zenflowId);
        results.set(item.job.id, {
          type: "dead",
          code: "conflict",
          message: `${orderLabel(item.order)}: ZenFlow order ${zenflowId} already belongs to ERP order ${other?.erpRef ?? other?.erpId ?? "?"} (same order number used twice?)`,
        });
      }
    }
    if (followUps.length) await deps.log.appendMany(followUps.map((f) => orderJob(f.order)));
  }

  async function updateOrder(order: ErpOrder, binding: Binding, mapped: MappedOrder, action: UpdateAction): Promise<JobResult> {
    const label = orderLabel(order);
    if (action === "webhook-bound") {
      // Bound from ZenFlow's side (a webhook) after creates whose answers were lost, all
      // carrying today's header: ZenFlow has it already.
      await binder.bind("order", {
        erpId: order.id,
        payloadHash: mapped.headerHash,
        auxHash: knownLines({ header: binding.sentHash, lines: binding.sentAuxHash }),
        sentHash: null,
        sentAuxHash: null,
      });
      return { type: "done", outcome: "noop", message: `${label}: ZenFlow already has this ship-by date, customer and address` };
    }
    if (action === "unchanged") return { type: "done", outcome: "noop", message: `${label}: nothing changed that ZenFlow tracks` };
    if (action === "lines-only")
      return {
        type: "done",
        outcome: "refused",
        message: `${label}: line changes cannot be sent to ZenFlow after creation; a note was added to the order`,
        notes: [await noteLinesNotSent(order, binding, mapped)],
      };
    const linesChanged = linesChangedSince(binding, mapped);
    try {
      await client.orders.update(binding.zenflowId!, headerPatch(mapped), [subjectOf(order)]);
    } catch (err) {
      if (err instanceof NotFoundError) {
        return {
          type: "dead",
          code: "not_found",
          message: `${label}: ZenFlow no longer has order ${binding.zenflowId}; it may have been deleted there`,
        };
      }
      if (err instanceof RejectedError && err.zenflowCode === "update_error") {
        const note = `ZenFlow did not accept the changed ship-by date, customer or address: ${err.zenflowMessage || "the order can no longer be changed"}. Please tell the warehouse directly.`;
        await erp.addNote(order.id, note);
        // Remember what we tried so the same refusal does not add a note on every later event.
        await binder.bind("order", { erpId: order.id, payloadHash: mapped.headerHash });
        return {
          type: "done",
          outcome: "refused",
          message: `${label}: ZenFlow refused the change (${err.zenflowMessage}); a note was added to the order`,
          notes: [note],
        };
      }
      throw err;
    }
    await binder.bind("order", { erpId: order.id, payloadHash: mapped.headerHash });
    const notes = linesChanged ? [await noteLinesNotSent(order, binding, mapped)] : [];
    return {
      type: "done",
      outcome: "sent",
      zenflowId: binding.zenflowId!,
      message: `${label}: ship-by date, customer or address updated in ZenFlow`,
      notes,
    };
  }

  /** Returns the note, for the order's timeline. */
  async function noteLinesNotSent(order: ErpOrder, binding: Binding, mapped: MappedOrder): Promise<string> {
    const note =
      "The order's lines changed after it was sent to ZenFlow. ZenFlow's API cannot change lines of an existing order: ask the warehouse to adjust ZenFlow order " +
      `${binding.zenflowId}, or cancel and re-create the order.`;
    await erp.addNote(order.id, note);
    await binder.bind("order", { erpId: order.id, auxHash: mapped.linesHash });
    return note;
  }

  async function cancelOrder(
    order: ErpOrder,
    binding: Binding | null,
    reason: string | undefined,
    action: CancelAction,
  ): Promise<JobResult> {
    const label = orderLabel(order);
    if (action === "unsent" || !binding)
      return { type: "done", outcome: "noop", message: `${label} was cancelled before it was sent to ZenFlow; nothing to cancel there` };
    if (action === "cancelled") return { type: "done", outcome: "noop", message: `${label} is already cancelled in ZenFlow` };
    // ZenFlow reported it Completed: a cancel would only be refused (cancel_error), so the
    // note that refusal leads to is written without asking.
    if (action === "completed") return refuseCancel(order, "it is already completed");
    // Without a known ZenFlow id (the create's answer was lost) cancel by our order number.
    const ref = binding.zenflowId ?? String(order.number);
    try {
      await client.orders.cancel(ref, { order_tenant_id: String(order.number), ...(reason ? { reason } : {}) }, [subjectOf(order)]);
    } catch (err) {
      if (err instanceof NotFoundError) {
        return { type: "done", outcome: "noop", message: `${label}: ZenFlow has no such order; nothing to cancel` };
      }
      if (err instanceof RejectedError && err.zenflowCode === "cancel_error") {
        // Recorded so the reconciliation does not ask (and note) again.
        await binder.advanceRemoteState("order", order.id, localState("Completed", deps.clock.now()));
        return refuseCancel(order, err.zenflowMessage || "it is already completed");
      }
      throw err;
    }
    await binder.advanceRemoteState("order", order.id, localState("Cancelled", deps.clock.now()));
    return { type: "done", outcome: "sent", zenflowId: binding.zenflowId ?? undefined, message: `${label} cancelled in ZenFlow` };
  }

  async function refuseCancel(order: ErpOrder, why: string): Promise<JobResult> {
    const note = `ZenFlow could not cancel this order: ${why}. It may already have left the warehouse — contact the warehouse team.`;
    await erp.addNote(order.id, note);
    return {
      type: "done",
      outcome: "refused",
      message: `${orderLabel(order)}: ZenFlow refused the cancellation (${why}); a note was added to the order`,
      notes: [note],
    };
  }

  /** Cancellations, and any change of an order ZenFlow has: each is a request of its own (or none). */
  async function alone(jobs: QueueJob[]): Promise<Set<number>> {
    const parsed = jobs.map((job) => ({ job, p: orderJobPayloadSchema.safeParse(job.payload) }));
    const bound = await binder.toExternalMany(
      "order",
      parsed.flatMap((x) => (x.p.success ? [x.p.data.orderId] : [])),
    );
    return new Set(parsed.filter((x) => x.p.success && (x.p.data.cancel || bound.get(x.p.data.orderId)?.zenflowId)).map((x) => x.job.id));
  }

  return { kind: ORDER_KIND, run, plan, alone };
}

type UpdateAction = "webhook-bound" | "unchanged" | "lines-only" | "put";
type CancelAction = "unsent" | "cancelled" | "completed" | "request";

interface OrderWork {
  /** Jobs settled without a request. */
  results: Map<number, JobResult>;
  creates: CreateItem[];
  updates: { job: QueueJob; order: ErpOrder; binding: Binding; mapped: MappedOrder; action: UpdateAction }[];
  cancels: { job: QueueJob; order: ErpOrder; binding: Binding | null; reason: string | undefined; action: CancelAction }[];
}

function linesChangedSince(binding: Binding, mapped: MappedOrder): boolean {
  return binding.auxHash !== null && binding.auxHash !== mapped.linesHash;
}

/** What a bound order's header update needs; only "put" is a request. */
function updateAction(binding: Binding, mapped: MappedOrder): UpdateAction {
  if (binding.payloadHash === null && binding.sentHash === mapped.headerHash) return "webhook-bound";
  if (binding.payloadHash === mapped.headerHash) return linesChangedSince(binding, mapped) ? "lines-only" : "unchanged";
  return "put";
}

/** What a cancellation needs; only "request" is a request. */
function cancelAction(binding: Binding | null): CancelAction {
  if (!binding) return "unsent";
  if (binding.remoteState === "Cancelled") return "cancelled";
  if (binding.remoteState === "Completed") return "completed";
  return "request";
}

/** An order as the request log names it (the order timeline). */
function subjectOf(order: ErpOrder): RequestSubject {
  return { entityKey: entityKey.order(order.id), erpRef: String(order.number) };
}

/** The lines ZenFlow has from our creates, when all of them carried the same. */
function knownLines(earlier: EarlierAttempts | null): string | null {
  return earlier?.lines && earlier.lines !== MIXED ? earlier.lines : null;
}

/** Indexes named by ZenFlow's validation details, e.g. "orders[2].assembly_date" → 2. */
function culpritIndexes(err: RejectedError, count: number): Set<number> {
  const out = new Set<number>();
  for (const d of err.details) {
    const m = /^orders\[(\d+)\]/.exec(d.field);
    if (m && Number(m[1]) < count) out.add(Number(m[1]));
  }
  return out;
}

function rejectedResult(order: ErpOrder, err: RejectedError, index?: number): JobResult {
  const mine = err.details.filter((d) => index === undefined || d.field.startsWith(`orders[${index}]`) || !d.field.startsWith("orders["));
  const why = [err.zenflowMessage, ...mine.map((d) => `${d.field.replace(/^orders\[\d+\]\.?/, "") || "order"}: ${d.message}`)]
    .filter(Boolean)
    .join("; ");
  return { type: "dead", code: err.zenflowCode, message: `${orderLabel(order)}: ZenFlow rejected it — ${why || err.message}` };
}

/** A state learnt from ZenFlow's answer to our own request (not from a webhook). */
function localState(state: "Completed" | "Cancelled", at: number) {
  return { state, at, eventId: "", rank: stateRank(state), rankOf: stateRank };
}
