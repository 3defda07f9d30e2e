// Identifiers that come from outside compare byte for byte on MariaDB/MySQL too.
//
// The foundation tables took the schema's default collation: on MariaDB usually
// utf8mb4_unicode_ci or utf8mb4_general_ci, which are case-insensitive and PAD SPACE, so
// `evt_abc`, `evt_ABC` and `evt_abc ` were one webhook event, and ERP ids `a1` and `A1` one
// binding. These columns now use the binary NO PAD collation (utf8mb4_nopad_bin on MariaDB,
// utf8mb4_0900_bin on MySQL 8), which is what SQLite always did. The binder's ERP columns
// also grow to 512 characters, so ERP ids, SKUs and barcodes longer than 191 are stored whole
// (the index still fits InnoDB's 3072-byte limit).
//
// Keys the plugin builds itself (entity keys, lease names) need no change: they are
// lowercase ASCII or carry a hash (plugin/jobs/keys.ts), the same under every collation.
import type { Knex } from "knex";

interface Column {
  table: string;
  column: string;
  length: number;
  nullable: boolean;
  /** The definition before this migration (for down()). */
  oldLength: number;
}

const COLUMNS: Column[] = [
  { table: "zenflow_inbox", column: "event_id", length: 128, oldLength: 128, nullable: false },
  { table: "zenflow_seen_events", column: "event_id", length: 128, oldLength: 128, nullable: false },
  { table: "zenflow_id_map", column: "erp_id", length: 512, oldLength: 191, nullable: false },
  { table: "zenflow_id_map", column: "zenflow_id", length: 64, oldLength: 64, nullable: true },
  { table: "zenflow_id_map", column: "erp_ref", length: 512, oldLength: 191, nullable: true },
  { table: "zenflow_id_map", column: "barcode", length: 512, oldLength: 191, nullable: true },
];

function isMysql(knex: Knex): boolean {
  const client = String((knex.client as { config?: { client?: unknown } }).config?.client ?? "");
  return client === "mysql" || client === "mysql2";
}

async function binaryNoPad(knex: Knex): Promise<string> {
  const [rows] = (await knex.raw("SELECT VERSION() AS v")) as [Array<{ v: string }>];
  const v = String(rows[0]?.v ?? "");
  if (/mariadb/i.test(v)) return "utf8mb4_nopad_bin";
  // MySQL 8's utf8mb4_0900_bin is NO PAD; 5.7 has only the PAD SPACE utf8mb4_bin.
  return Number(v.split(".")[0]) >= 8 ? "utf8mb4_0900_bin" : "utf8mb4_bin";
}

async function modify(knex: Knex, c: Column, length: number, collation: string | null): Promise<void> {
  const collate = collation ? ` CHARACTER SET utf8mb4 COLLATE ${collation}` : "";
  // MODIFY restates the whole column: its length, nullability and (here) collation. Indexes stay.
  await knex.raw(`ALTER TABLE ?? MODIFY ?? VARCHAR(${length})${collate} ${c.nullable ? "NULL" : "NOT NULL"}`, [c.table, c.column]);
}

export async function up(knex: Knex): Promise<void> {
  // SQLite compares TEXT byte for byte and does not cut VARCHARs: nothing to change.
  if (!isMysql(knex)) return;
  const collation = await binaryNoPad(knex);
  for (const c of COLUMNS) await modify(knex, c, c.length, collation);
}

export async function down(knex: Knex): Promise<void> {
  if (!isMysql(knex)) return;
  // Back to the table's default collation, as the foundation created them.
  for (const c of COLUMNS) await modify(knex, c, c.oldLength, null);
}
