// What the binder needs to order ZenFlow's changes deterministically (#10 item 6): the id of
// the event whose state (or stock level) was applied, breaking ties between events of the
// same instant, and for stock the level that event said came before (previous_quantity).
import type { Knex } from "knex";

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable("zenflow_id_map", (t) => {
    t.string("remote_event_id", 128).nullable();
    t.string("remote_previous", 32).nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable("zenflow_id_map", (t) => {
    t.dropColumn("remote_event_id");
    t.dropColumn("remote_previous");
  });
}
