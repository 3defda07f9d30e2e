// Initial catalog import (action `import-catalog`, the CLI, or the dashboard). Streams
// ctx.erp.products.list page by page into POST /products/bulk, so memory stays flat whatever
// the catalog size; skips products ZenFlow already has in this version (hash in the binder);
// saves its cursor after every page, so a crash or restart resumes where it stopped; runs
// at import priority behind a budget reserve, so orders keep flowing. Bad products are
// queued as ordinary product jobs, where they become dead letters an admin can retry.
import type { ErpPort } from "../core/erp-port";
import type { ErpProduct } from "../core/host-api";
import { toZenflowProduct } from "../mapping/to-zenflow-product";
import { clearRequest, pendingRequest, type Progress, readProgress, writeProgress } from "../core/runs";
import { Priority } from "../jobs/priorities";
import { productJob } from "../jobs/product-job";
import { PRODUCTS_PER_REQUEST, type UpsertItem, upsertProducts } from "./export-products";
import type { BulkRunDeps } from "./stock-sync";

export interface ImportProgress extends Progress {
  requestedAt: number;
  cursor: string | null;
  skipped: number;
}

export interface CatalogImportDeps extends BulkRunDeps {
  /** Called after every page (tests interrupt an import here). */
  onPage?: (p: ImportProgress) => void | Promise<void>;
}

const NAME = "import-catalog";

async function countProducts(erp: ErpPort, signal?: AbortSignal): Promise<number> {
  let total = 0;
  let cursor: string | undefined;
  do {
    if (signal?.aborted) return total;
    const page = await erp.listProducts({ cursor, limit: 1000 });
    total += page.items.length;
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return total;
}

/** Runs (or resumes) the requested import. Returns the final progress, or null when none is requested. */
export async function runCatalogImport(deps: CatalogImportDeps, signal?: AbortSignal): Promise<ImportProgress | null> {
  const { erp, binder, client, state, clock } = deps;
  const request = await pendingRequest(state, NAME);
  if (!request) return null;
  const saved = (await readProgress(state, NAME)) as ImportProgress | null;
  let p: ImportProgress;
  if (saved && saved.requestedAt === request.requestedAt && saved.status !== "done") {
    p = { ...saved, status: "running", updatedAt: clock.now() };
  } else {
    const now = clock.now();
    p = {
      requestedAt: request.requestedAt,
      status: "running",
      startedAt: now,
      updatedAt: now,
      done: 0,
      total: null,
      errors: 0,
      skipped: 0,
      requests: 0,
      cursor: null,
      etaMs: null,
    };
    await writeProgress(state, NAME, p);
    p.total = await countProducts(erp, signal);
  }
  await writeProgress(state, NAME, p);
  const resumedAt = clock.now();
  const doneAtResume = p.done;

  for (;;) {
    if (signal?.aborted) return p;
    const page = await erp.listProducts({ cursor: p.cursor ?? undefined, limit: PRODUCTS_PER_REQUEST });
    const bindings = await binder.toExternalMany(
      "product",
      page.items.map((x) => x.id),
    );
    const items: UpsertItem[] = [];
    const broken: ErpProduct[] = [];
    for (const product of page.items) {
      if (!product.active) {
        p.skipped++;
        continue;
      }
      try {
        const mapped = toZenflowProduct(product, deps.config);
        if (bindings.get(product.id)?.payloadHash === mapped.hash) p.skipped++;
        else items.push({ key: product.id, product, mapped });
      } catch {
        broken.push(product);
      }
    }
    const results = items.length ? await upsertProducts({ client, binder }, items, Priority.import) : new Map();
    if (items.length) p.requests = (p.requests ?? 0) + Math.ceil(items.length / PRODUCTS_PER_REQUEST);
    for (const r of results.values()) {
      // A page that could not be sent stops the run; it resumes from this page later.
      if (r.type === "failed") throw r.error;
    }
    const rejected = page.items.filter((x) => results.get(x.id)?.type === "dead");
    // Bad products become ordinary product jobs: dead letters with the reason, retryable.
    if (broken.length || rejected.length) await deps.log.appendMany([...broken, ...rejected].map((x) => productJob(x)));
    p.errors += broken.length + rejected.length;
    p.done += page.items.length;
    p.cursor = page.nextCursor;
    const now = clock.now();
    const rate = (p.done - doneAtResume) / Math.max(1, now - resumedAt);
    p.updatedAt = now;
    p.etaMs = p.total !== null && rate > 0 ? Math.round(Math.max(0, p.total - p.done) / rate) : null;
    if (!page.nextCursor) break;
    await writeProgress(state, NAME, p);
    await deps.onPage?.(p);
  }
  p.status = "done";
  p.etaMs = 0;
  p.total = Math.max(p.total ?? 0, p.done);
  p.message = `${p.done} products checked: ${p.done - p.skipped - p.errors} sent, ${p.skipped} already up to date or inactive, ${p.errors} with problems`;
  await writeProgress(state, NAME, p);
  await clearRequest(state, NAME);
  return p;
}
