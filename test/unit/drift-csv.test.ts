import "../support/leak-check";
// The drift report's CSV download: RFC 4180 quoting, and no cell a spreadsheet would run as a
// formula (an ERP SKU or location is outside data).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { driftCsv } from "../../plugin/admin/drift-columns";
import type { DriftRow } from "../../plugin/sync/stock-compare";

const row = (over: Partial<DriftRow>): DriftRow => ({
  sku: "P-1",
  erpLocation: "main",
  location: "LOC-A1",
  erpQuantity: 6,
  zenflowQuantity: 60,
  difference: -54,
  direction: "ERP → ZenFlow",
  ...over,
});

describe("drift report CSV", () => {
  it("quotes commas, quotes and line breaks, and keeps negative numbers as numbers", () => {
    const csv = driftCsv([row({ sku: 'Mug, "large"\nred', erpChangedAt: Date.UTC(2026, 11, 2, 3, 0, 0) })]);
    const [header, line, end] = csv.split("\r\n");
    assert.equal(
      header,
      "SKU,ERP location,ZenFlow location,ERP quantity,ZenFlow quantity,Difference (ERP − ZenFlow),ERP last change,ZenFlow last change,Full sync writes",
    );
    assert.equal(line, '"Mug, ""large""\nred",main,LOC-A1,6,60,-54,2026-12-02T03:00:00.000Z,,ERP → ZenFlow');
    assert.equal(end, "");
  });

  it("prefixes cells that start with = + - @ (or a tab or CR) with an apostrophe", () => {
    const csv = driftCsv([
      row({ sku: '=HYPERLINK("http://evil")', erpLocation: "+1", location: "-2" }),
      row({ sku: "@SUM(A1)", erpLocation: "\tx", erpQuantity: null, direction: null, note: "not in the ERP: left as it is in ZenFlow" }),
    ]);
    const lines = csv.split("\r\n");
    assert.equal(lines[1], `"'=HYPERLINK(""http://evil"")",'+1,'-2,6,60,-54,,,ERP → ZenFlow`);
    assert.equal(lines[2], `'@SUM(A1),'\tx,LOC-A1,missing,60,-54,,,nothing (not in the ERP: left as it is in ZenFlow)`);
  });
});
