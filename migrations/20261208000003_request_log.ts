// #13 item 5: the order timeline shows each request to ZenFlow that carried an order, with its
// outcome and the rate-budget window it was counted in. One row per order per request (a
// batched create of 50 orders writes 50 rows in one insert), written by the worker after the
// answer, never on the ERP's request path. Housekeeping deletes rows older than the retention.
import type { Knex } from "knex";

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable("zenflow_requests", (t) => {
    t.bigIncrements("id").primary();
    t.string("entity_key", 191).notNullable();
    t.string("erp_ref", 191).nullable();
    t.string("endpoint", 64).notNullable(); // e.g. "POST /orders"
    t.string("path", 512).notNullable();
    t.integer("status").nullable(); // HTTP status; NULL when no answer came (network, timeout, not sent)
    t.string("outcome", 64).notNullable(); // ok | the error's code (server_error, rate_limited, timeout, …)
    t.text("message").nullable();
    t.integer("duration_ms").notNullable();
    t.integer("batch_size").notNullable(); // how many orders the request carried
    // The budget windows the request's token was counted in (epoch ms, UTC-aligned).
    t.bigInteger("minute_start").notNullable();
    t.bigInteger("hour_start").notNullable();
    t.bigInteger("at").notNullable(); // when the request left
    t.index(["entity_key", "at"], "zenflow_requests_entity_idx");
    t.index(["at"], "zenflow_requests_at_idx");
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists("zenflow_requests");
}
