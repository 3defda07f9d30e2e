// Keyset paging over Vendure's tables for orders.list / products.list / stock.list: results
// sorted by (updatedAt, id) as the database stores them, an opaque cursor holding the last
// row's raw stored values, `updatedSince` inclusive. Reading the raw column (datetimes come
// back as strings on both databases) keeps sub-millisecond precision that a JS Date would drop.
import type { Knex } from "knex";
import type { DbKind } from "./database";

export const MAX_LIMIT = 1000;
export const DEFAULT_LIMIT = 100;

export class InvalidQuery extends Error {}

export function clampLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1) throw new InvalidQuery("limit must be a positive integer");
  return Math.min(limit, MAX_LIMIT);
}

export function encodeCursor(values: (string | number)[]): string {
  return Buffer.from(JSON.stringify(values), "utf8").toString("base64url");
}

export function decodeCursor(cursor: string, arity: number): (string | number)[] {
  try {
    const v = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as unknown;
    if (Array.isArray(v) && v.length === arity && v.every((x) => typeof x === "string" || typeof x === "number")) return v;
  } catch {
    /* reported below */
  }
  throw new InvalidQuery("cursor is not one this ERP handed out");
}

/**
 * How Vendure's TypeORM connection writes a Date: UTC text on SQLite; on MySQL/MariaDB in the
 * connection's `timezone` ("local" unless the shop configured one). `updatedSince` is turned
 * into the same representation, floored to the second (SQLite's CURRENT_TIMESTAMP has no
 * fractions), which keeps it inclusive.
 */
export function storedDatetime(iso: string, kind: DbKind, timezone: string | undefined): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) throw new InvalidQuery("updatedSince must be an ISO 8601 date-time");
  const tz = kind === "sqlite" ? "Z" : (timezone ?? "local");
  let shifted: Date;
  if (tz === "local") shifted = new Date(d.getTime() - d.getTimezoneOffset() * 60_000);
  else if (tz === "Z" || /^utc$/i.test(tz)) shifted = d;
  else {
    const m = /^([+-])(\d{2}):?(\d{2})$/.exec(tz);
    shifted = m ? new Date(d.getTime() + (m[1] === "-" ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) * 60_000) : d;
  }
  return shifted.toISOString().slice(0, 19).replace("T", " ");
}

export interface KeysetPage {
  /** Row ids in order. */
  ids: string[];
  nextCursor: string | null;
}

/** Next page of `query` (already filtered) by (timeColumn, idColumn). */
export async function keysetPage(
  query: Knex.QueryBuilder,
  o: { timeColumn: string; idColumn: string; since?: string; cursor?: string; limit: number },
): Promise<KeysetPage> {
  const q = query.clone().select({ t: o.timeColumn, id: o.idColumn });
  if (o.since !== undefined) q.where(o.timeColumn, ">=", o.since);
  if (o.cursor) {
    const [t, id] = decodeCursor(o.cursor, 2);
    q.where((w) => w.where(o.timeColumn, ">", t!).orWhere((x) => x.where(o.timeColumn, "=", t!).andWhere(o.idColumn, ">", id!)));
  }
  const rows = (await q.orderBy([{ column: o.timeColumn }, { column: o.idColumn }]).limit(o.limit + 1)) as { t: unknown; id: number | string }[];
  const page = rows.slice(0, o.limit);
  const last = page[page.length - 1];
  return {
    ids: page.map((r) => String(r.id)),
    nextCursor: rows.length > o.limit && last ? encodeCursor([rawTime(last.t), Number(last.id)]) : null,
  };
}

/** Ascending by id only (stock levels have no useful updatedAt order). */
export async function idPage(query: Knex.QueryBuilder, o: { idColumn: string; cursor?: string; limit: number }): Promise<{ rows: Record<string, unknown>[]; nextCursor: string | null }> {
  const q = query.clone();
  if (o.cursor) q.where(o.idColumn, ">", decodeCursor(o.cursor, 1)[0]!);
  const rows = (await q.orderBy(o.idColumn).limit(o.limit + 1)) as Record<string, unknown>[];
  const page = rows.slice(0, o.limit);
  const last = page[page.length - 1];
  return { rows: page, nextCursor: rows.length > o.limit && last ? encodeCursor([Number(last.id)]) : null };
}

function rawTime(t: unknown): string {
  // better-sqlite3 and mysql2 (dateStrings) give strings; a Date would mean a driver set up
  // differently, and then the ISO form is the best we have.
  return t instanceof Date ? t.toISOString() : String(t);
}
