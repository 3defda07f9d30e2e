import "../support/leak-check";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MappingError } from "../../plugin/core/errors";
import type { ErpOrder } from "../../plugin/core/host-api";
import { formatAddress, toZenflowOrder } from "../../plugin/mapping/to-zenflow-order";
import { dateAsWritten, isCalendarDate } from "../../plugin/mapping/dates";

export function order(over: Partial<ErpOrder> = {}): ErpOrder {
  return {
    id: "ord_1",
    number: "SO-2026-000001",
    status: "awaiting_fulfillment",
    shipByDate: "2026-03-01",
    customer: { name: "Ana Pérez", email: "ana@example.com" },
    shippingAddress: {
      line1: "Av. Corrientes 1234",
      line2: "Piso 3",
      city: "Buenos Aires",
      state: "CABA",
      postalCode: "C1043",
      country: "AR",
    },
    items: [
      { sku: "SKU-1", barcode: "7790001", quantity: 2, unitPrice: "19.90" },
      { sku: "SKU-2", quantity: 1, unitPrice: "5" },
    ],
    currency: "ARS",
    createdAt: "2026-02-27T22:30:00-03:00",
    updatedAt: "2026-02-27T22:30:00-03:00",
    ...over,
  };
}

describe("toZenflowOrder", () => {
  it("maps the documented fields: tenant id, assembly date, one-string address, lines with barcode or SKU", () => {
    const { payload } = toZenflowOrder(order());
    assert.deepEqual(payload, {
      order_tenant_id: "SO-2026-000001",
      assembly_date: "2026-03-01",
      customer_name: "Ana Pérez",
      shipping_address: "Av. Corrientes 1234, Piso 3, Buenos Aires, CABA C1043, AR",
      order_detail: [
        { barcode: "7790001", quantity: 2, price: 19.9 },
        { barcode: "SKU-2", quantity: 1, price: 5 },
      ],
    });
  });

  it("keeps the ship-by date as written, whatever the process time zone", () => {
    assert.equal(toZenflowOrder(order({ shipByDate: "2026-03-01" })).payload.assembly_date, "2026-03-01");
    assert.equal(toZenflowOrder(order({ shipByDate: "2026-12-31" })).payload.assembly_date, "2026-12-31");
  });

  it("falls back to the creation date as the ERP wrote it when there is no ship-by date", () => {
    assert.equal(toZenflowOrder(order({ shipByDate: null })).payload.assembly_date, "2026-02-27");
  });

  it("collects every problem of a bad order into one admin-readable error", () => {
    const bad = order({ shipByDate: "2026-02-30", items: [{ sku: "A", quantity: -1, unitPrice: "abc" }] });
    assert.throws(
      () => toZenflowOrder(bad),
      (err: unknown) => {
        assert.ok(err instanceof MappingError);
        assert.match(err.message, /^Order SO-2026-000001 cannot be sent to ZenFlow/);
        assert.match(err.message, /shipByDate "2026-02-30" is not a valid date/);
        assert.match(err.message, /quantity is -1: quantities must be greater than zero/);
        assert.match(err.message, /unitPrice "abc" is not a non-negative decimal amount/);
        return true;
      },
    );
    assert.throws(() => toZenflowOrder(order({ items: [] })), /items is empty: the order has no lines/);
    assert.throws(() => toZenflowOrder(order({ number: "" })), /number is empty/);
  });

  it("hashes header and lines separately so a line edit is told apart from an address edit", () => {
    const a = toZenflowOrder(order());
    const b = toZenflowOrder(order({ shippingAddress: { ...order().shippingAddress, line1: "Other 1" } }));
    const c = toZenflowOrder(order({ items: [{ sku: "SKU-1", quantity: 3, unitPrice: "19.90" }] }));
    assert.notEqual(a.headerHash, b.headerHash);
    assert.equal(a.linesHash, b.linesHash);
    assert.equal(a.headerHash, c.headerHash);
    assert.notEqual(a.linesHash, c.linesHash);
  });

  it("formats partial addresses without stray commas", () => {
    assert.equal(formatAddress({ line1: "Main 1", city: "Rosario", postalCode: "2000", country: "AR" }), "Main 1, Rosario, 2000, AR");
  });
});

describe("dates", () => {
  it("accepts only real calendar dates", () => {
    for (const ok of ["2026-03-01", "2024-02-29", "2026-12-31"]) assert.equal(isCalendarDate(ok), true, ok);
    for (const bad of ["2026-02-29", "2026-13-01", "2026-3-1", "01/03/2026", "", null, 20260301])
      assert.equal(isCalendarDate(bad), false, String(bad));
  });
  it("reads the date of a timestamp in its own offset", () => {
    assert.equal(dateAsWritten("2026-03-01T23:30:00-03:00"), "2026-03-01");
    assert.equal(dateAsWritten("garbage"), null);
  });
});
