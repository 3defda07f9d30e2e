// Products: create/lookup, uniqueness, bulk upsert with per-item errors, soft delete.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { startSandbox, type Sandbox } from "../../dev/sandbox/index";
import { call } from "./helpers";

describe("sandbox products", () => {
  let sb: Sandbox;
  before(async () => {
    sb = await startSandbox({ maxBatch: 10 });
  });
  beforeEach(() => sb.reset());
  after(() => sb.close());

  it("creates (201), refuses duplicates (409) and missing name/barcode (400), and finds by id, SKU and barcode", async () => {
    const created = await call(sb, "POST", "/products", {
      body: { name: "Widget A", barcode: "7891234567890", sku: "SKU/001", price: 29.99, weight: 0.5 },
    });
    assert.equal(created.status, 201);
    assert.equal(created.body.data.id, 100);
    assert.equal(created.body.data.external_id, "SKU/001");
    assert.equal(created.body.data.is_active, true);
    assert.deepEqual(created.body.data.stock, []);

    const dup = await call(sb, "POST", "/products", { body: { name: "Other", barcode: "7891234567890" } });
    assert.deepEqual(
      [dup.status, dup.body.error.code, dup.body.error.message],
      [409, "already_exists", "Product with this barcode already exists"],
    );
    const missing = await call(sb, "POST", "/products", { body: { barcode: "1" } });
    assert.deepEqual(
      [missing.status, missing.body.error.code, missing.body.error.message],
      [400, "validation_error", "Name and barcode are required"],
    );

    const bySku = await call(sb, "GET", `/products/sku/${encodeURIComponent("SKU/001")}`);
    assert.equal(bySku.status, 200);
    assert.equal(bySku.body.data.id, 100);
    assert.equal((await call(sb, "GET", "/products/barcode/7891234567890")).body.data.name, "Widget A");
    const byId = await call(sb, "GET", "/products/100");
    for (const f of [
      "barcode",
      "external_id",
      "name",
      "description",
      "category",
      "price",
      "weight",
      "width",
      "height",
      "depth",
      "sales_unit",
      "weighable",
      "photo_url",
      "is_active",
      "stock",
      "created_at",
      "updated_at",
    ]) {
      assert.ok(f in byId.body.data, `full shape has ${f}`);
    }
    const nf = await call(sb, "GET", "/products/sku/NOPE");
    assert.deepEqual([nf.status, nf.body.error.code, nf.body.error.message], [404, "not_found", "Product not found"]);

    const upd = await call(sb, "PUT", "/products/100", { body: { name: "Widget A+", price: 34.99, category: "Premium" } });
    assert.equal(upd.status, 200);
    assert.equal(upd.body.data.price, 34.99);
    const list = await call(sb, "GET", "/products?sku=SKU%2F001");
    assert.equal(list.body.data.products.length, 1);
    assert.equal(list.body.data.pagination.total, 1);
  });

  it("bulk upserts by barcode, reporting per-item errors while applying the rest", async () => {
    await call(sb, "POST", "/products", { body: { name: "Existing", barcode: "B-1", sku: "SKU-1" } });
    await call(sb, "POST", "/products", { body: { name: "Owner", barcode: "B-9", sku: "SKU-9" } });
    const r = await call(sb, "POST", "/products/bulk", {
      body: {
        products: [
          { barcode: "B-1", name: "Existing renamed", price: 10 },
          { barcode: "B-2", name: "New one", sku: "SKU-2" },
          { name: "No barcode" },
          { barcode: "B-3", name: "  " },
          { barcode: "B-4", name: "Negative", price: -1 },
          { barcode: "B-5", name: "Steals SKU", sku: "SKU-9" },
          { barcode: "B-6", name: "Fine too" },
        ],
      },
    });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.data, {
      created: 2,
      updated: 1,
      errors: [
        { barcode: null, error: "Barcode is required" },
        { barcode: "B-3", error: "Name is required" },
        { barcode: "B-4", error: "Price must be zero or positive" },
        { barcode: "B-5", error: "SKU SKU-9 is already used by product 101" },
      ],
    });
    const names = sb.products().map((p) => p.name);
    assert.deepEqual(names, ["Existing renamed", "Owner", "New one", "Fine too"]);
    const tooMany = await call(sb, "POST", "/products/bulk", {
      body: { products: Array.from({ length: 11 }, (_, i) => ({ barcode: `X${i}`, name: "x" })) },
    });
    assert.equal(tooMany.status, 400);
    assert.equal(tooMany.body.error.code, "validation_error");
  });

  it("soft-deletes and re-activates through bulk", async () => {
    await call(sb, "POST", "/products", { body: { name: "Gone", barcode: "D-1" } });
    const del = await call(sb, "DELETE", "/products/100");
    assert.deepEqual(del.body.data, { message: "Product deleted successfully", product_id: 100 });
    assert.equal((await call(sb, "GET", "/products/100")).body.data.is_active, false);
    assert.equal((await call(sb, "DELETE", "/products/555")).status, 404);
    const bulk = await call(sb, "POST", "/products/bulk", { body: { products: [{ barcode: "D-1", name: "Back" }] } });
    assert.deepEqual(bulk.body.data, { created: 0, updated: 1, errors: [] });
    assert.equal(sb.products()[0]!.is_active, true);
  });
});
