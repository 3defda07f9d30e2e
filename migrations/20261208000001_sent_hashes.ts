// What each order create carried (#13 item 1): the header and lines hashes of the attempts
// not yet answered, or "mixed" when attempts carried different payloads. An "existing"
// answer to a retried create is then known to hold our header, so no PUT has to follow.
import type { Knex } from "knex";

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable("zenflow_id_map", (t) => {
    t.string("sent_hash", 64).nullable();
    t.string("sent_aux_hash", 64).nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable("zenflow_id_map", (t) => {
    t.dropColumn("sent_hash");
    t.dropColumn("sent_aux_hash");
  });
}
