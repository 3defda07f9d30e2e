// The worker claims one kind at a time (orders first, bulk kinds in whole requests' worth).
// On MariaDB the claim is SELECT … FOR UPDATE SKIP LOCKED: it must read rows in claim order
// and stop at its LIMIT, or it locks every row it read and a second process claiming at the
// same moment finds them all locked and gets nothing (measured: 300 pending orders, the
// optimiser chose a full scan and a filesort, and one of two processes claimed 100 per round
// while the other claimed 0). With the kind second, the index serves the filter and the order.
import type { Knex } from "knex";

const TABLES = ["zenflow_outbox", "zenflow_inbox"] as const;

export async function up(knex: Knex): Promise<void> {
  for (const table of TABLES) {
    await knex.schema.alterTable(table, (t) => {
      t.index(["status", "kind", "priority", "run_at"], `${table}_claim_kind_idx`);
    });
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const table of TABLES) {
    await knex.schema.alterTable(table, (t) => {
      t.dropIndex(["status", "kind", "priority", "run_at"], `${table}_claim_kind_idx`);
    });
  }
}
