// Foundation tables. Portable across MariaDB/MySQL and SQLite: instants are BIGINT epoch
// milliseconds (UTC, no driver time-zone conversion), JSON lives in text columns, and
// every uniqueness rule is a constraint rather than a check in code.
import type { Knex } from "knex";

// Queue columns shared by the outbox and the inbox, so one claim/settle implementation serves both.
function queueColumns(t: Knex.CreateTableBuilder): void {
  t.string("status", 16).notNullable(); // pending | running | done | dead | superseded | ignored | unmatched | discarded
  t.integer("priority").notNullable().defaultTo(50);
  t.integer("attempts").notNullable().defaultTo(0);
  // Set when the entity changed while its job was running: the job runs again with the newer payload.
  t.boolean("rerun").notNullable().defaultTo(false);
  t.bigInteger("run_at").notNullable();
  t.string("locked_by", 128).nullable();
  t.bigInteger("lease_until").nullable();
  t.text("last_error").nullable();
  t.string("last_error_code", 64).nullable();
  t.bigInteger("created_at").notNullable();
  t.bigInteger("updated_at").notNullable();
  t.bigInteger("finished_at").nullable();
}

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable("zenflow_outbox", (t) => {
    t.bigIncrements("id").primary();
    t.string("kind", 32).notNullable();
    t.string("entity_key", 191).notNullable();
    t.string("erp_ref", 191).nullable();
    // = entity_key while the job is pending or running, NULL afterwards: at most one live job
    // per entity without partial indexes (which MariaDB lacks). Later changes merge into it.
    t.string("active_key", 191).nullable().unique("zenflow_outbox_active_key_uq");
    t.text("payload", "mediumtext").notNullable();
    // The newest zenflow_event_log row merged into this job: an older change never overwrites a newer one.
    t.bigInteger("source_seq").nullable();
    t.string("zenflow_id", 64).nullable();
    queueColumns(t);
    // The claim filters on status and run_at and orders by priority: without this index SKIP
    // LOCKED would lock far more rows than it returns.
    t.index(["status", "priority", "run_at"], "zenflow_outbox_claim_idx");
    t.index(["entity_key"], "zenflow_outbox_entity_idx");
  });

  // What the ERP's event handlers write: one append-only row per event, with no secondary
  // index, so the ERP's request pays for one page and nothing else (the same as any single
  // insert). The worker routes these rows into zenflow_outbox (dedupe, coalescing) off the
  // request path.
  await knex.schema.createTable("zenflow_event_log", (t) => {
    t.bigIncrements("id").primary();
    t.string("event_id", 128).nullable();
    t.string("kind", 32).notNullable();
    t.string("entity_key", 191).notNullable();
    t.string("erp_ref", 191).nullable();
    t.text("payload").notNullable();
    t.integer("priority").notNullable();
    t.bigInteger("received_at").notNullable();
  });

  // ERP event ids already turned into outbox work: a host that delivers the same event
  // twice produces one job. Written by the router, off the request path.
  await knex.schema.createTable("zenflow_seen_events", (t) => {
    t.string("event_id", 128).primary();
    t.bigInteger("seen_at").notNullable();
    t.index(["seen_at"], "zenflow_seen_events_at_idx");
  });

  await knex.schema.createTable("zenflow_id_map", (t) => {
    t.bigIncrements("id").primary();
    t.string("entity_type", 16).notNullable(); // order | product
    t.string("erp_id", 191).notNullable();
    // NULL while a create was attempted but ZenFlow's id is not known yet.
    t.string("zenflow_id", 64).nullable();
    t.string("erp_ref", 191).nullable(); // order number, SKU
    t.string("barcode", 191).nullable();
    t.string("payload_hash", 64).nullable(); // hash of the last payload ZenFlow accepted
    t.string("aux_hash", 64).nullable(); // orders: hash of the lines sent
    t.string("remote_state", 32).nullable(); // orders: last ZenFlow state applied to the ERP
    t.bigInteger("remote_updated_at").nullable(); // ZenFlow time of that state (webhook ordering)
    t.bigInteger("synced_at").nullable();
    t.bigInteger("checked_at").nullable(); // orders: last backstop status check
    t.bigInteger("created_at").notNullable();
    t.bigInteger("updated_at").notNullable();
    t.unique(["entity_type", "erp_id"], { indexName: "zenflow_id_map_erp_uq" });
    t.unique(["entity_type", "zenflow_id"], { indexName: "zenflow_id_map_zf_uq" });
    t.index(["entity_type", "erp_ref"], "zenflow_id_map_ref_idx");
    t.index(["entity_type", "barcode"], "zenflow_id_map_barcode_idx");
  });

  // What happened to each entity, for the dashboard's lookup and recent failures.
  await knex.schema.createTable("zenflow_history", (t) => {
    t.bigIncrements("id").primary();
    t.string("entity_key", 191).notNullable();
    t.string("erp_ref", 191).nullable();
    t.string("kind", 32).notNullable();
    t.string("outcome", 16).notNullable(); // sent | noop | retry | dead | refused | applied | ignored
    t.text("message").nullable();
    t.string("zenflow_id", 64).nullable();
    t.bigInteger("job_id").nullable();
    t.bigInteger("at").notNullable();
    t.index(["entity_key", "at"], "zenflow_history_entity_idx");
    t.index(["erp_ref"], "zenflow_history_ref_idx");
    t.index(["outcome", "at"], "zenflow_history_outcome_idx");
    t.index(["at"], "zenflow_history_at_idx");
  });

  // One row per API key (by hash, never the key): the rate budget every ERP process shares.
  await knex.schema.createTable("zenflow_budget", (t) => {
    t.string("key_id", 64).primary();
    t.bigInteger("minute_start").notNullable().defaultTo(0);
    t.integer("minute_used").notNullable().defaultTo(0);
    t.bigInteger("hour_start").notNullable().defaultTo(0);
    t.integer("hour_used").notNullable().defaultTo(0);
    t.bigInteger("day_start").notNullable().defaultTo(0);
    t.integer("day_used").notNullable().defaultTo(0);
    t.bigInteger("paused_until").notNullable().defaultTo(0);
    t.string("pause_reason", 255).nullable();
    t.text("auth_error").nullable();
    t.bigInteger("auth_failed_at").nullable();
    t.bigInteger("last_request_at").nullable();
    t.bigInteger("last_success_at").nullable();
    t.bigInteger("updated_at").notNullable().defaultTo(0);
  });

  // Cluster-wide singletons (scheduled tasks, webhook registration).
  await knex.schema.createTable("zenflow_leases", (t) => {
    t.string("name", 64).primary();
    t.string("holder", 128).nullable();
    t.bigInteger("expires_at").notNullable().defaultTo(0);
    t.bigInteger("acquired_at").nullable();
  });

  // Small key/value state: cursors, last runs, import progress, webhook registration.
  await knex.schema.createTable("zenflow_state", (t) => {
    t.string("key", 191).primary();
    t.text("value", "mediumtext").notNullable();
    t.bigInteger("updated_at").notNullable();
  });

  await knex.schema.createTable("zenflow_inbox", (t) => {
    t.bigIncrements("id").primary();
    t.string("event_id", 128).notNullable().unique("zenflow_inbox_event_uq");
    t.string("event", 64).notNullable(); // slash form, e.g. order/updated
    t.string("kind", 16).notNullable(); // order | stock | ignored: which synchronizer applies it
    t.string("entity_key", 191).nullable();
    t.bigInteger("zenflow_created_at").nullable();
    t.text("payload", "mediumtext").notNullable();
    // Which ingest batch wrote the row: tells a delivery whether its row is new or a duplicate.
    t.string("ingest_batch", 36).nullable();
    queueColumns(t);
    t.index(["status", "priority", "run_at"], "zenflow_inbox_claim_idx");
    t.index(["entity_key"], "zenflow_inbox_entity_idx");
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of [
    "zenflow_inbox",
    "zenflow_state",
    "zenflow_leases",
    "zenflow_budget",
    "zenflow_history",
    "zenflow_id_map",
    "zenflow_seen_events",
    "zenflow_event_log",
    "zenflow_outbox",
  ]) {
    await knex.schema.dropTableIfExists(table);
  }
}
