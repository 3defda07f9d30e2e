// A small self-refreshing HTML page for the demo: the orders the sandbox received.
import type { SandboxOrder } from "./types";

function esc(s: unknown): string {
  return String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

const STATE_COLORS: Record<string, string> = {
  Pending: "#8a6d00",
  "In Progress": "#0b5cad",
  Packed: "#6b3fa0",
  Completed: "#1d7a35",
  Cancelled: "#a12b2b",
};

export function renderDashboard(orders: SandboxOrder[], nowIso: string): string {
  const rows = [...orders]
    .sort((a, b) => b.id - a.id)
    .map((o) => {
      const lines = o.order_detail
        .map((l) => `${esc(l.quantity)} × ${esc(l.barcode)}${l.product_name ? ` <span class="muted">(${esc(l.product_name)})</span>` : ""}`)
        .join("<br>");
      const color = STATE_COLORS[o.state_name] ?? "#333";
      return `<tr><td>${esc(o.order_tenant_id)}</td><td class="muted">${esc(o.id)}</td><td><span class="state" style="background:${color}">${esc(o.state_name)}</span></td><td>${lines}</td><td>${esc(o.created_at)}</td></tr>`;
    })
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="2">
<title>ZenFlow sandbox – orders</title>
<style>
body{font:15px/1.4 system-ui,sans-serif;margin:2rem;color:#222}
h1{font-size:1.3rem;margin:0 0 .3rem}
table{border-collapse:collapse;width:100%;margin-top:1rem}
th,td{text-align:left;padding:.45rem .7rem;border-bottom:1px solid #ddd;vertical-align:top}
th{background:#f4f4f4}
.muted{color:#777}
.state{color:#fff;border-radius:4px;padding:.1rem .45rem;font-size:.85rem;white-space:nowrap}
</style></head>
<body>
<h1>ZenFlow sandbox — orders received</h1>
<div class="muted">${orders.length} order(s) · refreshed ${esc(nowIso)} · newest first</div>
${
  orders.length === 0
    ? `<p class="muted">No orders yet.</p>`
    : `<table><thead><tr><th>Order (tenant id)</th><th>ZenFlow id</th><th>State</th><th>Lines</th><th>Created</th></tr></thead><tbody>
${rows}
</tbody></table>`
}
</body></html>`;
}
