// Synchronizer: ZenFlow stock level → ERP (stockSource = zenflow), from stored stock/updated
// webhooks. Their payload is not documented: we accept product_id, product_barcode, sku,
// location_id, quantity (absolute) and previous_quantity, and find the ERP SKU by SKU, then
// through the product mapping, then by barcode. The ERP's resulting stock.changed carries
// our origin, so the stock hook never sends it back.
import { z } from "zod";
import type { ZenflowConfig } from "../core/config";
import { ErpError, type ErpPort } from "../core/erp-port";
import { describeError } from "../core/errors";
import type { Binder } from "../id-map/binder";
import { toErpLocation } from "../mapping/locations";
import type { QueueJob } from "../outbox/queue";
import type { JobResult, SyncHandler } from "../outbox/worker";
import { instant } from "../webhooks/envelope";
import { parseEnvelope } from "./apply-order-state";
import { stockBindingId } from "../jobs/keys";

const stockData = z.object({
  product_id: z.union([z.number(), z.string()]).optional(),
  product_barcode: z.string().nullable().optional(),
  barcode: z.string().nullable().optional(),
  sku: z.string().nullable().optional(),
  location_id: z.string().min(1),
  quantity: z.number().finite(),
  previous_quantity: z.number().finite().optional(),
  updated_at: z.string().optional(),
});

export interface StockApplierDeps {
  erp: ErpPort;
  binder: Binder;
  config: ZenflowConfig;
}

export function createStockApplier(deps: StockApplierDeps): SyncHandler {
  const { erp, binder } = deps;

  async function findSku(d: z.output<typeof stockData>): Promise<string | null> {
    if (d.sku && (await erp.findProductBySku(d.sku))) return d.sku;
    if (d.product_id !== undefined) {
      const b = await binder.toInternal("product", String(d.product_id));
      if (b?.erpRef) return b.erpRef;
    }
    const barcode = d.product_barcode ?? d.barcode;
    if (barcode) {
      const b = await binder.byBarcode("product", barcode);
      if (b?.erpRef) return b.erpRef;
      // Products sent with the SKU as barcode (settings: products without a barcode).
      if (await erp.findProductBySku(barcode)) return barcode;
    }
    return null;
  }

  async function applyOne(job: QueueJob): Promise<JobResult> {
    const env = parseEnvelope(job.payload);
    const parsed = env ? stockData.safeParse(env.data) : null;
    if (!env || !parsed?.success) {
      return {
        type: "dead",
        code: "malformed",
        message: `A ZenFlow stock/updated event lacks location_id or a numeric quantity${parsed && !parsed.success ? ` (${parsed.error.issues.map((i) => i.path.join(".")).join(", ")})` : ""}`,
      };
    }
    const d = parsed.data;
    const label = `ZenFlow stock ${d.sku ?? d.product_barcode ?? d.product_id ?? "?"} @ ${d.location_id}`;
    const sku = await findSku(d);
    if (!sku)
      return {
        type: "dead",
        status: "unmatched",
        code: "unmatched",
        message: `${label}: no ERP product matches this SKU, product or barcode`,
      };
    const location = toErpLocation(deps.config, d.location_id);
    const at = instant(d.updated_at) ?? instant(env.created_at) ?? job.createdAt;
    // Stock events may arrive out of order: never let an older level overwrite a newer one.
    const key = stockBindingId(sku, location);
    await binder.bind("stock", { erpId: key, erpRef: sku });
    const version = {
      state: String(d.quantity),
      at,
      eventId: env.id,
      rank: 0,
      previous: d.previous_quantity === undefined ? null : String(d.previous_quantity),
    };
    if (!(await binder.advanceRemoteState("stock", key, version))) {
      return { type: "done", outcome: "ignored", message: `${label}: not newer than the level already applied` };
    }
    if (d.quantity < 0)
      return {
        type: "dead",
        code: "invalid",
        message: `${label}: ZenFlow reports a negative quantity (${d.quantity}); the ERP does not accept it`,
      };
    try {
      await erp.setStock({ sku, locationId: location, quantity: d.quantity, reason: "ZenFlow stock update" });
    } catch (err) {
      const code = err instanceof ErpError ? err.code : null;
      if (code === "not_found") return { type: "dead", status: "unmatched", code: "unmatched", message: `${label}: ${describeError(err)}` };
      if (code === "invalid")
        return {
          type: "dead",
          code: "invalid",
          message: `${label}: the ERP refused ${sku} @ ${location} = ${d.quantity}: ${describeError(err)} (check the location map)`,
        };
      throw err;
    }
    return { type: "done", outcome: "applied", message: `${label}: ERP ${sku} @ ${location} set to ${d.quantity}` };
  }

  return {
    kind: "stock",
    async run(jobs) {
      const results = new Map<number, JobResult>();
      // One stock row's events in arrival order; the binder decides which level is newer
      // (time, then previous_quantity, then event id), whatever order they come in.
      const sorted = [...jobs].sort((a, b) => a.createdAt - b.createdAt || a.id - b.id);
      for (const job of sorted) {
        try {
          results.set(job.id, await applyOne(job));
        } catch (error) {
          results.set(job.id, { type: "failed", error });
        }
      }
      return results;
    },
  };
}
