// The worker's batch-hold decision (outbox/batch-hold.ts, budget/pace.ts) asks how many jobs
// of a kind arrived in the last minute, across every process: the demand the rate budget
// must carry, which the budget's own counts cannot tell once holding (or a used-up window)
// has capped them. Without an index that count would scan every finished job kept for the
// history's retention.
import type { Knex } from "knex";

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable("zenflow_outbox", (t) => {
    t.index(["kind", "created_at"], "zenflow_outbox_arrivals_idx");
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable("zenflow_outbox", (t) => {
    t.dropIndex(["kind", "created_at"], "zenflow_outbox_arrivals_idx");
  });
}
