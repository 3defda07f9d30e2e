// Synchronizer: ERP products → ZenFlow. A job names one product; the worker reads its
// current state, skips it when ZenFlow already has exactly that (hash in the binder), and
// sends the rest through POST /products/bulk, 100 per request. Per-item errors in ZenFlow's
// answer become dead letters for those products only. Deleted or deactivated products are
// soft-deleted in ZenFlow (DELETE /products/:id), finding the id by SKU when unknown.
import { PRODUCT_KIND, type ProductJobPayload, productJobPayloadSchema } from "../jobs/product-job";
import { Priority, type PriorityValue } from "../jobs/priorities";
import type { ZenflowConfig } from "../core/config";
import type { ErpPort } from "../core/erp-port";
import { NotFoundError, describeError } from "../core/errors";
import type { ErpProduct } from "../core/host-api";
import type { Binder, Binding } from "../id-map/binder";
import { type MappedProduct, productLabel, toZenflowProduct } from "../mapping/to-zenflow-product";
import type { QueueJob } from "../outbox/queue";
import type { JobResult, PlannedRequest, SyncHandler } from "../outbox/worker";
import type { ZenflowClient } from "../zenflow/client";
import type { BulkProductsResult } from "../zenflow/schemas";
import { chunksOf } from "../core/chunks";

export const PRODUCTS_PER_REQUEST = 100;

export interface ProductExporterDeps {
  client: ZenflowClient;
  binder: Binder;
  erp: ErpPort;
  config: ZenflowConfig;
}

export interface UpsertItem {
  key: string | number;
  product: ErpProduct;
  mapped: MappedProduct;
}

/**
 * Sends products in bulk and records what ZenFlow accepted. Shared by the incremental sync
 * and the catalog import. Returns one result per item key.
 */
export async function upsertProducts(
  deps: Pick<ProductExporterDeps, "client" | "binder">,
  items: UpsertItem[],
  priority: PriorityValue,
): Promise<Map<string | number, JobResult>> {
  const results = new Map<string | number, JobResult>();
  await Promise.all(
    chunksOf(items, PRODUCTS_PER_REQUEST).map(async (chunk) => {
      let answer: BulkProductsResult;
      try {
        answer = (
          await deps.client.products.bulkUpsert(
            chunk.map((c) => c.mapped.payload),
            priority,
          )
        ).data;
      } catch (error) {
        for (const c of chunk) results.set(c.key, { type: "failed", error });
        return;
      }
      const errors = new Map<string, string>();
      for (const e of answer.errors) if (e.barcode) errors.set(e.barcode, e.error ?? e.message ?? "rejected");
      // The docs show no ids in the answer; use them when a ZenFlow version sends them.
      const ids = new Map<string, string>();
      for (const p of answer.products ?? []) if (p.barcode) ids.set(p.barcode, p.id);
      const unattributed = answer.errors.filter((e) => !e.barcode);
      for (const c of chunk) {
        const barcode = c.mapped.payload.barcode;
        const err = errors.get(barcode);
        if (err) {
          results.set(c.key, { type: "dead", code: "rejected", message: `${productLabel(c.product)}: ZenFlow rejected it — ${err}` });
          continue;
        }
        await deps.binder.bind("product", {
          erpId: c.product.id,
          erpRef: c.product.sku,
          barcode,
          payloadHash: c.mapped.hash,
          ...(ids.get(barcode) ? { zenflowId: ids.get(barcode) } : {}),
        });
        results.set(c.key, {
          type: "done",
          outcome: "sent",
          zenflowId: ids.get(barcode),
          message: `${productLabel(c.product)} upserted in ZenFlow`,
        });
      }
      if (unattributed.length) {
        // Errors without a barcode cannot be tied to a product: keep them visible in history.
        const first = chunk.map((c) => results.get(c.key)).find((r) => r?.type === "done");
        if (first?.type === "done") {
          first.message = `${first.message}; ZenFlow also reported ${unattributed.length} error(s) without a barcode: ${unattributed
            .map((e) => e.error ?? e.message)
            .join("; ")
            .slice(0, 400)}`;
        }
      }
    }),
  );
  return results;
}

export function createProductExporter(deps: ProductExporterDeps): SyncHandler {
  const { client, binder, erp } = deps;

  async function remove(sku: string, erpId: string, binding: Binding | null): Promise<JobResult> {
    const label = `Product ${sku}`;
    let id = binding?.zenflowId ?? null;
    if (!id) {
      try {
        id = (await client.products.bySku(sku, Priority.product)).data.id;
      } catch (err) {
        if (err instanceof NotFoundError)
          return { type: "done", outcome: "noop", message: `${label} is not in ZenFlow; nothing to delete` };
        throw err;
      }
    }
    try {
      await client.products.remove(id);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
    // Forget the hash so a product re-created later is sent again.
    await binder.bind("product", { erpId, zenflowId: id, payloadHash: null });
    return { type: "done", outcome: "sent", zenflowId: id, message: `${label} deactivated in ZenFlow (soft delete)` };
  }

  /**
   * What each job needs, read-only: settled without a request, an upsert (batched), or a
   * soft delete. `run` acts on it; the plan view counts its requests.
   */
  async function classify(jobs: QueueJob[]): Promise<ProductWork> {
    const config = deps.config;
    const work: ProductWork = { results: new Map(), upserts: [], removes: [] };
    const { results } = work;
    const parsed = jobs.map((job) => ({ job, p: productJobPayloadSchema.safeParse(job.payload) }));
    const ids = parsed.filter((x) => x.p.success).map((x) => (x.p.data as ProductJobPayload).productId);
    const bindings = await binder.toExternalMany("product", ids);
    const upserts: (UpsertItem | null)[] = jobs.map(() => null);
    await Promise.all(
      parsed.map(async ({ job, p }, index) => {
        if (!p.success) {
          results.set(job.id, {
            type: "dead",
            code: "invalid_record",
            message: `${job.erpRef ?? "Product"}: the stored change is unreadable`,
          });
          return;
        }
        const { productId, deleted } = p.data;
        const binding = bindings.get(productId) ?? null;
        const product = deleted ? null : await erp.getProduct(productId);
        if (!product || !product.active) {
          const sku = deleted?.sku ?? product?.sku ?? binding?.erpRef ?? job.erpRef;
          if (!sku || (!binding && !product)) {
            results.set(job.id, {
              type: "done",
              outcome: "noop",
              message: `${productLabel(product ?? { id: productId, sku: sku ?? undefined })} was never sent to ZenFlow; nothing to delete`,
            });
            return;
          }
          if (!binding) {
            results.set(job.id, {
              type: "done",
              outcome: "noop",
              message: `${productLabel(product!)} is inactive and was never sent to ZenFlow`,
            });
            return;
          }
          work.removes.push({ job, sku, productId, binding });
          return;
        }
        let mapped: MappedProduct;
        try {
          mapped = toZenflowProduct(product, config);
        } catch (err) {
          results.set(job.id, { type: "dead", code: "invalid_record", message: describeError(err) });
          return;
        }
        if (binding?.payloadHash === mapped.hash) {
          results.set(job.id, { type: "done", outcome: "noop", message: `${productLabel(product)}: ZenFlow already has this version` });
          return;
        }
        upserts[index] = { key: job.id, product, mapped };
      }),
    );
    // In claim order, whatever order the ERP answered in: batches are cut from this list.
    work.upserts = upserts.filter((u): u is UpsertItem => u !== null);
    return work;
  }

  async function plan(jobs: QueueJob[]): Promise<PlannedRequest[]> {
    const work = await classify(jobs);
    return [
      ...chunksOf(work.upserts, PRODUCTS_PER_REQUEST).map((chunk) => ({
        endpoint: "POST /products/bulk",
        priority: Priority.product,
        jobIds: chunk.map((c) => c.key as number),
      })),
      // Without a known ZenFlow id, the id is looked up by SKU first: two requests.
      ...work.removes.flatMap((r) => [
        ...(r.binding.zenflowId ? [] : [{ endpoint: "GET /products/sku/:sku", priority: Priority.product, jobIds: [r.job.id] }]),
        { endpoint: "DELETE /products/:id", priority: Priority.product, jobIds: [r.job.id] },
      ]),
    ];
  }

  async function run(jobs: QueueJob[]): Promise<Map<number, JobResult>> {
    const work = await classify(jobs);
    const { results } = work;
    const singles = work.removes.map((r) =>
      remove(r.sku, r.productId, r.binding).then(
        (res) => void results.set(r.job.id, res),
        (error) => void results.set(r.job.id, { type: "failed", error }),
      ),
    );
    const sent = await upsertProducts(deps, work.upserts, Priority.product);
    for (const [key, r] of sent) results.set(key as number, r);
    await Promise.all(singles);
    return results;
  }

  return { kind: PRODUCT_KIND, run, plan };
}

interface ProductWork {
  /** Jobs settled without a request. */
  results: Map<number, JobResult>;
  upserts: UpsertItem[];
  removes: { job: QueueJob; sku: string; productId: string; binding: Binding }[];
}
