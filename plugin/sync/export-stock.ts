// Synchronizer: ERP stock levels → ZenFlow (stockSource = erp). A job carries the absolute
// quantity of one (SKU, ERP location); later changes of the same pair replace it before it
// is sent. Levels go out through POST /stock/bulk by SKU, 100 per request; ZenFlow's
// per-item errors (unknown SKU or location, negative quantity) become dead letters for
// those rows only.
import { STOCK_KIND, stockJobPayloadSchema } from "../jobs/stock-job";
import { stockBindingId } from "../jobs/keys";
import { Priority, type PriorityValue } from "../jobs/priorities";
import type { ZenflowConfig } from "../core/config";
import { type FieldProblem, MappingError, NotYetError, describeError } from "../core/errors";
import type { Binder } from "../id-map/binder";
import { toZenflowLocation } from "../mapping/locations";
import type { QueueJob } from "../outbox/queue";
import type { JobResult, PlannedRequest, SyncHandler } from "../outbox/worker";
import type { ZenflowClient } from "../zenflow/client";
import type { BulkStockResult } from "../zenflow/schemas";
import { chunksOf } from "../core/chunks";

export const STOCK_ROWS_PER_REQUEST = 100;

export interface StockRow {
  key: string | number;
  sku: string;
  erpLocation: string;
  quantity: number;
}

/** Validates one level; returns the ZenFlow update or throws a MappingError an admin understands. */
export function toZenflowStock(row: StockRow, config: Pick<ZenflowConfig, "locationMap" | "defaultLocationId">) {
  const problems: FieldProblem[] = [];
  if (!row.sku.trim()) problems.push({ field: "sku", message: "is empty" });
  if (typeof row.quantity !== "number" || !Number.isFinite(row.quantity)) problems.push({ field: "quantity", message: "is not a number" });
  else if (row.quantity < 0) problems.push({ field: "quantity", message: `is ${row.quantity}: ZenFlow does not accept negative stock` });
  const location = toZenflowLocation(config, row.erpLocation);
  if (!location) problems.push({ field: "locationId", message: "has no ZenFlow location (settings: location map / default location)" });
  if (problems.length) throw new MappingError(`Stock ${row.sku || "(no SKU)"} @ ${row.erpLocation}`, problems);
  return { sku: row.sku.trim(), location_id: location, quantity: row.quantity };
}

/** Which row a per-item error of ZenFlow's answer belongs to. */
function matchError(e: BulkStockResult["errors"][number], chunk: { row: StockRow; update: { sku: string; location_id: string } }[]) {
  const text = e.error ?? "";
  return chunk.filter(
    (c) =>
      (e.sku === undefined || e.sku === c.update.sku) &&
      (e.location_id !== undefined
        ? e.location_id === c.update.location_id
        : !/location/i.test(text) || text.includes(c.update.location_id)) &&
      (e.sku !== undefined || text.includes(c.update.sku)),
  );
}

type ValidStock = { row: StockRow; update: { sku: string; location_id: string; quantity: number } };

/** The rows ZenFlow can take, and a dead letter for each it cannot. */
function validateStock(rows: StockRow[], config: ZenflowConfig): { results: Map<string | number, JobResult>; valid: ValidStock[] } {
  const results = new Map<string | number, JobResult>();
  const valid: ValidStock[] = [];
  for (const row of rows) {
    try {
      valid.push({ row, update: toZenflowStock(row, config) });
    } catch (err) {
      results.set(row.key, { type: "dead", code: "invalid_record", message: describeError(err) });
    }
  }
  return { results, valid };
}

/** The bulk requests valid rows go out in. */
const stockBatches = (valid: ValidStock[]) => chunksOf(valid, STOCK_ROWS_PER_REQUEST);

export async function pushStock(
  deps: { client: ZenflowClient; binder: Binder; config: ZenflowConfig },
  rows: StockRow[],
  priority: PriorityValue,
): Promise<Map<string | number, JobResult>> {
  const { results, valid } = validateStock(rows, deps.config);
  await Promise.all(
    stockBatches(valid).map(async (chunk) => {
      let answer: BulkStockResult;
      try {
        answer = (
          await deps.client.stock.bulkSet(
            chunk.map((c) => c.update),
            priority,
          )
        ).data;
      } catch (error) {
        for (const c of chunk) results.set(c.row.key, { type: "failed", error });
        return;
      }
      const failed = new Map<StockRow, string>();
      for (const e of answer.errors) for (const c of matchError(e, chunk)) failed.set(c.row, e.error ?? "rejected");
      for (const c of chunk) {
        const label = `Stock ${c.row.sku} @ ${c.row.erpLocation} (ZenFlow ${c.update.location_id})`;
        const why = failed.get(c.row);
        if (why && /product .*not found/i.test(why)) {
          // Stock outranks products, so a new product's first level can arrive before the
          // product does: retried with backoff; only a product that never arrives ends dead.
          results.set(c.row.key, {
            type: "failed",
            error: new NotYetError(`${label}: ZenFlow does not know product ${c.row.sku} yet (${why}); it may still be on its way`),
          });
          continue;
        }
        if (why) {
          results.set(c.row.key, {
            type: "dead",
            code: "rejected",
            message: `${label}: ZenFlow rejected the level ${c.update.quantity} — ${why}`,
          });
          continue;
        }
        await deps.binder.bind("stock", {
          erpId: stockBindingId(c.row.sku, c.row.erpLocation),
          erpRef: c.row.sku,
          payloadHash: String(c.update.quantity),
        });
        results.set(c.row.key, { type: "done", outcome: "sent", message: `${label} set to ${c.update.quantity} in ZenFlow` });
      }
    }),
  );
  return results;
}

export function createStockExporter(deps: { client: ZenflowClient; binder: Binder; config: ZenflowConfig }): SyncHandler {
  /** What each job needs, read-only: the rows to send, and the jobs settled without a request. */
  async function classify(jobs: QueueJob[]): Promise<{ results: Map<number, JobResult>; rows: StockRow[] }> {
    const results = new Map<number, JobResult>();
    const config = deps.config;
    const rows: StockRow[] = [];
    const keys = jobs.map((j) => {
      const p = stockJobPayloadSchema.safeParse(j.payload);
      return p.success ? stockBindingId(p.data.sku, p.data.locationId) : "";
    });
    const last = await deps.binder.toExternalMany("stock", keys.filter(Boolean));
    jobs.forEach((job, i) => {
      const p = stockJobPayloadSchema.safeParse(job.payload);
      if (!p.success) {
        results.set(job.id, {
          type: "dead",
          code: "invalid_record",
          message: `${job.erpRef ?? "Stock"}: the stored change is unreadable`,
        });
        return;
      }
      if (config.stockSource !== "erp") {
        results.set(job.id, {
          type: "done",
          outcome: "ignored",
          message: `Stock is not sent to ZenFlow (settings: who owns stock levels = ${config.stockSource})`,
        });
        return;
      }
      if (last.get(keys[i]!)?.payloadHash === String(p.data.quantity)) {
        results.set(job.id, {
          type: "done",
          outcome: "noop",
          message: `Stock ${p.data.sku} @ ${p.data.locationId}: ZenFlow already has ${String(p.data.quantity)}`,
        });
        return;
      }
      rows.push({ key: job.id, sku: p.data.sku, erpLocation: p.data.locationId, quantity: p.data.quantity as number });
    });
    return { results, rows };
  }

  return {
    kind: STOCK_KIND,
    async run(jobs: QueueJob[]) {
      const { results, rows } = await classify(jobs);
      for (const [k, r] of await pushStock(deps, rows, Priority.stock)) results.set(k as number, r);
      return results;
    },
    async plan(jobs: QueueJob[]): Promise<PlannedRequest[]> {
      const { rows } = await classify(jobs);
      return stockBatches(validateStock(rows, deps.config).valid).map((chunk) => ({
        endpoint: "POST /stock/bulk",
        priority: Priority.stock,
        jobIds: chunk.map((c) => c.row.key as number),
      }));
    },
  };
}
