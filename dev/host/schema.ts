// The host's own tables (prefix erp_). They are created through knex's migrator with an
// in-code migration source and a separate migrations table, so that several ERP processes
// starting at once on one database take knex's migration lock instead of racing on
// CREATE TABLE.
import type { Knex } from "knex";
import { databaseKind } from "./database";
import { withMigrationLock } from "./migration-lock";

export const HOST_MIGRATIONS_TABLE = "erp_host_migrations";

export const ORDER_STATUSES: { code: string; label: string }[] = [
  { code: "draft", label: "Draft" },
  { code: "awaiting_fulfillment", label: "Awaiting fulfillment" },
  { code: "on_hold", label: "On hold" },
  { code: "picking", label: "Picking" },
  { code: "ready_to_ship", label: "Ready to ship" },
  { code: "shipped", label: "Shipped" },
  { code: "cancelled", label: "Cancelled" },
];

export const LOCATIONS: { id: string; name: string }[] = [
  { id: "main", name: "Main warehouse" },
  { id: "backroom", name: "Backroom" },
];

// ISO-8601 UTC with milliseconds is 24 characters; 40 leaves room for offsets given by callers.
const ISO = 40;

// On MariaDB, a case- and accent-sensitive collation makes ids and SKUs compare (and sort,
// for keyset paging) exactly as they do in SQLite. Ignored by SQLite.
function collationFor(knex: Knex): (t: Knex.CreateTableBuilder) => void {
  if (databaseKind(knex) !== "mysql") return () => undefined;
  return (t) => {
    t.charset("utf8mb4");
    t.collate("utf8mb4_bin");
  };
}

interface HostMigration {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

const migrations: Record<string, HostMigration> = {
  "20260101000000_erp_core": {
    async up(knex) {
      const binaryCollation = collationFor(knex);
      await knex.schema.createTable("erp_statuses", (t) => {
        binaryCollation(t);
        t.string("code", 64).primary();
        t.string("label", 255).notNullable();
        t.integer("position").notNullable().defaultTo(0);
      });
      await knex.schema.createTable("erp_locations", (t) => {
        binaryCollation(t);
        t.string("id", 64).primary();
        t.string("name", 255).notNullable();
      });
      await knex.schema.createTable("erp_orders", (t) => {
        binaryCollation(t);
        t.string("id", 64).primary();
        t.string("number", 64).notNullable().unique();
        t.string("status", 64).notNullable();
        // Wider than YYYY-MM-DD on purpose: the ERP stores malformed dates as typed, and
        // plugins must cope with them.
        t.string("ship_by_date", 32).nullable();
        t.text("customer").notNullable();
        t.text("shipping_address").notNullable();
        t.text("items", "mediumtext").notNullable();
        t.string("currency", 16).notNullable();
        t.text("notes").nullable();
        t.string("shipped_at", ISO).nullable();
        t.string("tracking_number", 255).nullable();
        t.string("carrier", 255).nullable();
        t.string("updated_origin", 64).nullable();
        t.string("created_at", ISO).notNullable();
        t.string("updated_at", ISO).notNullable();
        t.index(["updated_at", "id"], "erp_orders_updated_idx");
        t.index(["status"], "erp_orders_status_idx");
      });
      await knex.schema.createTable("erp_order_notes", (t) => {
        binaryCollation(t);
        t.increments("id").primary();
        t.string("order_id", 64).notNullable().index("erp_order_notes_order_idx");
        t.text("note").notNullable();
        t.string("origin", 64).nullable();
        t.string("created_at", ISO).notNullable();
      });
      await knex.schema.createTable("erp_order_events", (t) => {
        binaryCollation(t);
        t.increments("id").primary();
        t.string("order_id", 64).notNullable().index("erp_order_events_order_idx");
        t.string("what", 64).notNullable();
        t.text("from_value").nullable();
        t.text("to_value").nullable();
        t.string("origin", 64).nullable();
        t.string("at", ISO).notNullable();
      });
      await knex.schema.createTable("erp_products", (t) => {
        binaryCollation(t);
        t.string("id", 64).primary();
        t.string("sku", 128).notNullable().unique();
        t.string("barcode", 128).nullable();
        t.string("name", 255).notNullable();
        t.string("category", 255).nullable();
        t.double("weight_kg").nullable();
        t.string("price", 32).nullable();
        t.boolean("active").notNullable().defaultTo(true);
        t.string("updated_origin", 64).nullable();
        t.string("updated_at", ISO).notNullable();
        t.index(["updated_at", "id"], "erp_products_updated_idx");
      });
      await knex.schema.createTable("erp_stock", (t) => {
        binaryCollation(t);
        t.string("sku", 128).notNullable();
        t.string("location_id", 64).notNullable();
        t.integer("quantity").notNullable();
        t.string("updated_origin", 64).nullable();
        t.string("updated_at", ISO).notNullable();
        t.primary(["sku", "location_id"]);
      });
      await knex.schema.createTable("erp_plugin_config", (t) => {
        binaryCollation(t);
        t.string("plugin_id", 64).primary();
        t.text("values_json", "mediumtext").notNullable();
        t.integer("version").notNullable();
        t.string("updated_at", ISO).notNullable();
      });
      await knex("erp_statuses").insert(ORDER_STATUSES.map((s, position) => ({ ...s, position })));
      await knex("erp_locations").insert(LOCATIONS);
    },
    async down(knex) {
      for (const t of [
        "erp_plugin_config",
        "erp_stock",
        "erp_products",
        "erp_order_events",
        "erp_order_notes",
        "erp_orders",
        "erp_locations",
        "erp_statuses",
      ]) {
        await knex.schema.dropTableIfExists(t);
      }
    },
  },
  "20260101000001_erp_sequences": {
    // Order numbers come from a row-locked counter: "max + 1" collides when several
    // connections create orders at the same moment.
    async up(knex) {
      const binaryCollation = collationFor(knex);
      await knex.schema.createTable("erp_sequences", (t) => {
        binaryCollation(t);
        t.string("name", 64).primary();
        t.integer("value").notNullable();
      });
    },
    async down(knex) {
      await knex.schema.dropTableIfExists("erp_sequences");
    },
  },
  "20260101000002_erp_long_identifiers": {
    // The contract puts no length on ids, order numbers, SKUs or location ids: 255 lets the
    // tests drive identifiers of every length a plugin must survive. SQLite does not cut
    // VARCHARs, so only MariaDB/MySQL needs the change.
    async up(knex) {
      if (databaseKind(knex) !== "mysql") return;
      // NO PAD where the server has it, so "A1" and "A1 " are two ids, as in SQLite.
      const [rows] = (await knex.raw("SELECT VERSION() AS v")) as [Array<{ v: string }>];
      const collation = /mariadb/i.test(String(rows[0]?.v)) ? "utf8mb4_nopad_bin" : "utf8mb4_bin";
      for (const [table, column, nullable] of LONG_IDENTIFIERS) await widen(knex, table, column, 255, nullable, collation);
    },
    async down(knex) {
      if (databaseKind(knex) !== "mysql") return;
      for (const [table, column, nullable, before] of LONG_IDENTIFIERS) await widen(knex, table, column, before, nullable, "utf8mb4_bin");
    },
  },
};

const LONG_IDENTIFIERS: [table: string, column: string, nullable: boolean, before: number][] = [
  ["erp_locations", "id", false, 64],
  ["erp_orders", "id", false, 64],
  ["erp_orders", "number", false, 64],
  ["erp_order_notes", "order_id", false, 64],
  ["erp_order_events", "order_id", false, 64],
  ["erp_products", "id", false, 64],
  ["erp_products", "sku", false, 128],
  ["erp_products", "barcode", true, 128],
  ["erp_stock", "sku", false, 128],
  ["erp_stock", "location_id", false, 64],
];

async function widen(knex: Knex, table: string, column: string, length: number, nullable: boolean, collation: string): Promise<void> {
  await knex.raw(
    `ALTER TABLE ?? MODIFY ?? VARCHAR(${length}) CHARACTER SET utf8mb4 COLLATE ${collation} ${nullable ? "NULL" : "NOT NULL"}`,
    [table, column],
  );
}

const migrationSource: Knex.MigrationSource<string> = {
  async getMigrations() {
    return Object.keys(migrations).sort();
  },
  getMigrationName(name) {
    return name;
  },
  async getMigration(name) {
    const m = migrations[name];
    if (!m) throw new Error(`unknown host migration ${name}`);
    return m;
  },
};

/** Creates or upgrades the erp_ tables; safe to call from several processes at once. */
export async function ensureHostSchema(db: Knex): Promise<void> {
  await withMigrationLock(db, HOST_MIGRATIONS_TABLE, () => db.migrate.latest({ migrationSource, tableName: HOST_MIGRATIONS_TABLE }));
}
