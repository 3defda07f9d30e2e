// Stock: absolute sets, validations, bulk per-item errors, adjustments, movements.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { startSandbox, type Sandbox } from "../../dev/sandbox/index";
import { call } from "./helpers";

describe("sandbox stock", () => {
  let sb: Sandbox;
  before(async () => {
    sb = await startSandbox();
  });
  beforeEach(async () => {
    sb.reset();
    await call(sb, "POST", "/products/bulk", {
      body: {
        products: [
          { barcode: "7891234567890", name: "Widget A", sku: "SKU-001" },
          { barcode: "7891234567891", name: "Widget B", sku: "SKU-002" },
        ],
      },
    });
  });
  after(() => sb.close());

  it("sets absolute quantities with PUT and validates the body", async () => {
    const r = await call(sb, "PUT", "/stock/product/100", { body: { location_id: "LOC-A1", quantity: 50, reason: "count" } });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.data, { product_id: 100, location_id: "LOC-A1", previous_quantity: 0, new_quantity: 50, movement_id: "MOV-1" });
    const r2 = await call(sb, "PUT", "/stock/product/100", { body: { location_id: "LOC-A1", quantity: 75 } });
    assert.equal(r2.body.data.previous_quantity, 50);

    const cases: [Record<string, unknown>, string][] = [
      [{ quantity: 1 }, "Location ID is required"],
      [{ location_id: "LOC-A1", quantity: "7" }, "Quantity is required and must be a number"],
      [{ location_id: "LOC-A1", quantity: -1 }, "Quantity must be zero or positive"],
      [{ location_id: "LOC-Z9", quantity: 1 }, "Unknown location LOC-Z9"],
    ];
    for (const [body, message] of cases) {
      const bad = await call(sb, "PUT", "/stock/product/100", { body });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error.code, "validation_error");
      assert.equal(bad.body.error.message, message);
    }
    assert.equal((await call(sb, "PUT", "/stock/product/999", { body: { location_id: "LOC-A1", quantity: 1 } })).status, 404);

    const levels = await call(sb, "GET", "/stock?product_id=100");
    assert.deepEqual(levels.body.data.stock, [
      {
        product_id: 100,
        product_name: "Widget A",
        barcode: "7891234567890",
        sku: "SKU-001",
        location_id: "LOC-A1",
        location_code: "A-01-01",
        quantity: 75,
        min_quantity: 0,
        max_quantity: null,
      },
    ]);
    const bySku = await call(sb, "GET", "/stock/sku/SKU-001");
    assert.deepEqual(bySku.body.data, {
      product_id: 100,
      sku: "SKU-001",
      product_name: "Widget A",
      total_quantity: 75,
      locations: [{ location_id: "LOC-A1", quantity: 75 }],
    });
    assert.deepEqual((await call(sb, "GET", "/stock/product/100")).body.data, bySku.body.data);
    const product = await call(sb, "GET", "/products/100");
    assert.deepEqual(product.body.data.stock, [{ location_id: "LOC-A1", location_code: "A-01-01", quantity: 75 }]);
  });

  it("bulk sets stock, reporting per-item errors and applying the rest", async () => {
    const r = await call(sb, "POST", "/stock/bulk", {
      body: {
        updates: [
          { product_id: 100, location_id: "LOC-A1", quantity: 10 },
          { sku: "SKU-002", location_id: "LOC-B1", quantity: 5 },
          { sku: "INVALID-SKU", location_id: "LOC-A1", quantity: 1 },
          { sku: "SKU-001", location_id: "LOC-Q1", quantity: 1 },
          { product_id: 101, location_id: "LOC-A2", quantity: -3 },
          { sku: "SKU-001", location_id: "LOC-A2", quantity: 7 },
        ],
      },
    });
    assert.equal(r.status, 200);
    assert.equal(r.body.success, true);
    assert.deepEqual(r.body.data, {
      success: 3,
      errors: [
        { product_id: 0, sku: "INVALID-SKU", error: "Product with SKU INVALID-SKU not found" },
        { product_id: 100, sku: "SKU-001", error: "Unknown location LOC-Q1" },
        { product_id: 101, error: "Quantity must be zero or positive" },
      ],
    });
    assert.deepEqual(
      sb.stock().map((s) => [s.product_id, s.location_id, s.quantity]),
      [
        [100, "LOC-A1", 10],
        [100, "LOC-A2", 7],
        [101, "LOC-B1", 5],
      ],
    );
    const search = await call(sb, "GET", "/stock?search=widget%20b");
    assert.equal(search.body.data.stock.length, 1);
  });

  it("adjusts relatively, refuses zero, and records movements newest first", async () => {
    await call(sb, "PUT", "/stock/product/100", { body: { location_id: "LOC-A1", quantity: 50 } });
    const add = await call(sb, "POST", "/stock/adjustment", {
      body: { sku: "SKU-001", location_id: "LOC-A1", adjustment_quantity: 25, reason: "Stock replenishment" },
    });
    assert.deepEqual(add.body.data, {
      type: "addition",
      quantity_adjusted: 25,
      stock: { product_id: 100, location_id: "LOC-A1", previous_quantity: 50, new_quantity: 75 },
    });
    const remove = await call(sb, "POST", "/stock/adjustment", {
      body: { product_id: 100, location_id: "LOC-A1", adjustment_quantity: -10 },
    });
    assert.equal(remove.body.data.type, "removal");
    assert.equal(remove.body.data.stock.new_quantity, 65);
    const zero = await call(sb, "POST", "/stock/adjustment", { body: { product_id: 100, location_id: "LOC-A1", adjustment_quantity: 0 } });
    assert.deepEqual(
      [zero.status, zero.body.error.code, zero.body.error.message],
      [400, "validation_error", "Adjustment quantity cannot be zero"],
    );
    const moves = await call(sb, "GET", "/stock/movements?product_id=100");
    assert.deepEqual(
      moves.body.data.movements.map((m: { movement_type: string; quantity: number; new_quantity: number }) => [
        m.movement_type,
        m.quantity,
        m.new_quantity,
      ]),
      [
        ["OUT", 10, 65],
        ["IN", 25, 75],
        ["ADJUSTMENT", 50, 50],
      ],
    );
    assert.equal((await call(sb, "GET", "/stock/movements?movement_type=IN")).body.data.pagination.total, 1);
  });
});
