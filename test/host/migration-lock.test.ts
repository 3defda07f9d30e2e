// Several ERP processes starting at once all migrate the same fresh database. knex on its own
// can leave two rows in its lock table in that race (then every later start fails with
// "Migration table is already locked"), and on MariaDB a process killed mid-migration leaves
// the lock set. Each "process" here is its own knex pool, as separate processes would be.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ensureHostSchema, HOST_MIGRATIONS_TABLE } from "../../dev/host/schema";
import { createTestDb, testDbKinds } from "../support/db";

async function lockRows(db: import("knex").Knex): Promise<{ index: number; is_locked: number }[]> {
  return (await db(`${HOST_MIGRATIONS_TABLE}_lock`).select("index", "is_locked")) as { index: number; is_locked: number }[];
}

for (const kind of testDbKinds()) {
  describe(`host migrations from several processes (${kind})`, () => {
    test("eight processes migrating one fresh database together all succeed, leaving one free lock row", async () => {
      const db = await createTestDb(kind);
      try {
        const pools = Array.from({ length: 8 }, () => db.connect());
        await Promise.all(pools.map((k) => ensureHostSchema(k)));
        assert.deepEqual(await lockRows(db.knex), [{ index: 1, is_locked: 0 }]);
        const ran = (await db.knex(HOST_MIGRATIONS_TABLE).select("name")) as { name: string }[];
        assert.equal(ran.length, new Set(ran.map((r) => r.name)).size, "each host migration recorded once");
        assert.ok(await db.knex.schema.hasTable("erp_orders"));
        // A later start still works.
        await ensureHostSchema(db.connect());
      } finally {
        await db.destroy();
      }
    });

    if (kind === "mariadb") {
      test("a lock left set by a process that died mid-migration, or a stray second lock row, is cleared", async () => {
        const db = await createTestDb(kind);
        try {
          await ensureHostSchema(db.knex);
          const lockTable = `${HOST_MIGRATIONS_TABLE}_lock`;
          await db.knex(lockTable).update({ is_locked: 1 });
          await db.knex(lockTable).insert({ is_locked: 1 });
          await Promise.all([ensureHostSchema(db.connect()), ensureHostSchema(db.connect())]);
          assert.deepEqual(await lockRows(db.knex), [{ index: 1, is_locked: 0 }]);
        } finally {
          await db.destroy();
        }
      });
    }
  });
}
