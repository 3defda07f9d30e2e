// The chaos run's summary: one table a person can paste into BENCHMARKS.md, and the problems.
import type { ChaosResult } from "./scenario";

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export function summaryRows(r: ChaosResult): [string, string][] {
  const f = r.facts;
  const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
  const fmt = (o: Record<string, number>) =>
    Object.entries(o)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${v}`)
      .join(", ");
  const ops = r.driver.ops;
  const rows: [string, string][] = [
    ["result", r.ok ? "PASS" : `FAIL (${r.problems.length} problems)`],
    ["size / seed", `${r.size} / ${r.seed}`],
    ["features", `orders on; products ${on(r.features.products)}; stock ${on(r.features.stock)}; webhooks ${on(r.features.webhooks)}`],
    [
      "ERP orders",
      `${f.erpOrders ?? 0} created (${f.eligible ?? 0} in ZenFlow at the end, ${f.cancelled ?? 0} cancelled, ${f.drafts ?? 0} drafts never sent); ` +
        `${(ops["order.edit-date"] ?? 0) + (ops["order.edit-address"] ?? 0)} edits, ${ops["order.cancel"] ?? 0} cancellations, ${ops["order.confirm-draft"] ?? 0} drafts confirmed`,
    ],
    ["ZenFlow orders", `${f.zenflowOrders ?? 0}; ${f.ordersInCreates ?? 0} orders in ${f.createRequests ?? 0} create requests`],
  ];
  if (r.features.webhooks)
    rows.push([
      "webhooks",
      `${ops["warehouse.In Progress"] ?? 0} in progress, ${ops["warehouse.Packed"] ?? 0} packed, ${ops["warehouse.Completed"] ?? 0} completed, ${ops["warehouse.Cancelled"] ?? 0} cancelled by the warehouse; ` +
        `${f.webhookEvents ?? 0} events delivered in ${f.webhookAttempts ?? 0} attempts`,
    ]);
  if (r.features.products)
    rows.push([
      "products / stock",
      `${f.products ?? 0} products, ${f.stockLevels ?? "-"} stock levels; ${ops["product.update"] ?? 0} product edits, ${ops["stock.set"] ?? 0} stock changes`,
    ]);
  rows.push(
    ["requests to ZenFlow", `${sum(r.requests)} (${fmt(r.requests)})`],
    ["faults injected", `${sum(r.faults)} (${fmt(r.faults)})`],
    ["ERP calls resent (answer lost)", String(r.driver.resent)],
    [
      "kills (SIGKILL + restart)",
      r.kills.map((k) => `${k.process} at ${s(k.atMs)} holding ${k.heldJobs} jobs, back after ${s(k.restartedAfterMs)}`).join("; "),
    ],
    [
      "DB drop",
      `at ${s(r.dbDrop.atMs)} for ${s(r.dbDrop.ms)}: ${r.dbDrop.connectionsDropped} connections cut, ${r.dbDrop.refused} refused`,
    ],
    [
      "max per window (limit)",
      `minute ${r.budget.maxPerMinuteWindow} (${r.limits.perMinute}), any 60 s ${r.budget.maxInAnySliding60s}, hour ${r.budget.maxPerHourWindow} (${r.limits.perHour})`,
    ],
    [
      "budget the bottleneck",
      `${r.windows.atLimit} of ${r.windows.total} minute windows used up in ZenFlow; the plugins' shared count said "used up" ` +
        `${s(r.windows.usedUpMs)} of ${s(r.windows.sampledMs)}`,
    ],
    ["429s", `${r.budget.limit429s} for exceeding the budget; ${r.budget.injected429s} injected`],
    [
      "Retry-After violations",
      `${r.budget.violations}; ${r.inFlightAt429.count} requests in flight at a 429 arrived up to ${r.inFlightAt429.maxMs} ms after it (grace ${r.inFlightAt429.graceMs} ms; ` +
        `runner event-loop delay p99 ${r.runnerLagMs.p99.toFixed(0)} ms, max ${r.runnerLagMs.max.toFixed(0)} ms)`,
    ],
    ["duration", `${s(r.durations.totalMs)} (stream ${s(r.durations.streamMs)}, drain ${s(r.durations.drainMs)})`],
  );
  return rows;
}

function on(b: boolean): string {
  return b ? "on" : "off";
}

export function printSummary(r: ChaosResult): void {
  const rows = summaryRows(r);
  const w = Math.max(...rows.map(([k]) => k.length));
  console.log(`\n## chaos run (${r.size})\n`);
  console.log(`| ${"what".padEnd(w)} | result |`);
  console.log(`| ${"-".repeat(w)} | ------ |`);
  for (const [k, v] of rows) console.log(`| ${k.padEnd(w)} | ${v} |`);
  if (r.problems.length) {
    console.log("\nProblems:");
    for (const p of r.problems) console.log(`- ${p}`);
  }
  console.log(`\nProcess logs: ${r.logDir}`);
}
