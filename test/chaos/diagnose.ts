// When a chaos run fails, the evidence an SRE would want next to the summary: the sandbox's
// request and delivery logs, and for each order named in a problem its ERP history, the
// plugin's jobs and history rows, and every request to ZenFlow that mentioned it.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Knex } from "knex";
import type { Sandbox } from "../../dev/sandbox";

export async function writeDiagnosis(dir: string, db: Knex, sandbox: Sandbox, problems: string[]): Promise<string> {
  const requests = sandbox.requests();
  writeFileSync(join(dir, "sandbox-requests.json"), JSON.stringify(requests));
  writeFileSync(join(dir, "sandbox-deliveries.json"), JSON.stringify(sandbox.deliveries()));
  writeFileSync(join(dir, "sandbox-webhooks.json"), JSON.stringify(sandbox.webhooks().map((w) => ({ ...w, secret: "(hidden)" }))));
  const numbers = [...new Set(problems.join(" ").match(/SO-CH[\w]+-\d{6}/g) ?? [])].slice(0, 10);
  const orders = [];
  for (const number of numbers) {
    const row = await db("erp_orders").where({ number }).first();
    if (!row) continue;
    const zid = sandbox.order(number)?.id;
    orders.push({
      number,
      erp: row,
      erpEvents: await db("erp_order_events").where({ order_id: row.id }).orderBy("id"),
      outbox: await db("zenflow_outbox")
        .where({ entity_key: `order:${row.id}` })
        .orderBy("id"),
      history: await db("zenflow_history")
        .where({ entity_key: `order:${row.id}` })
        .orderBy("id"),
      binding: await db("zenflow_id_map").where({ entity_type: "order", erp_id: row.id }).first(),
      zenflow: sandbox.order(number) ?? null,
      requests: requests.filter(
        (r) => JSON.stringify(r.body ?? "").includes(number) || (zid !== undefined && r.path.includes(`/orders/${zid}`)),
      ),
    });
  }
  const file = join(dir, "diagnosis.json");
  writeFileSync(file, JSON.stringify({ problems, orders }, null, 1));
  return file;
}
