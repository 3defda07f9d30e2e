// Issue #9: a job that keeps failing for reasons that use no attempt (a rate-limit pause, a
// rejected key, contention for an entity's lease, shutdown) is still retried only so often.
// `deferrals` counts those postponements; the worker parks the job as a dead letter at a cap.
import type { Knex } from "knex";

export async function up(knex: Knex): Promise<void> {
  for (const table of ["zenflow_outbox", "zenflow_inbox"]) {
    await knex.schema.alterTable(table, (t) => {
      t.integer("deferrals").notNullable().defaultTo(0);
    });
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ["zenflow_outbox", "zenflow_inbox"]) {
    await knex.schema.alterTable(table, (t) => {
      t.dropColumn("deferrals");
    });
  }
}
