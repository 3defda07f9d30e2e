// The binder: which ZenFlow record an ERP record corresponds to, and what was last sent.
// Uniqueness lives in the table's constraints (entity type + ERP id, entity type + ZenFlow id).
import type { Knex } from "knex";
import type { Clock } from "../core/clock";
import { insertIfAbsent, num, numOrNull } from "../core/dialect";
import { MappingError } from "../core/errors";
import { Table } from "../core/tables";
import { clip, codePoints } from "../core/text";

/** `stock` rows key an ERP SKU@location and only carry the time of the last applied ZenFlow level. */
export type EntityType = "order" | "product" | "stock";

export interface Binding {
  entityType: EntityType;
  erpId: string;
  zenflowId: string | null;
  erpRef: string | null;
  barcode: string | null;
  payloadHash: string | null;
  auxHash: string | null;
  remoteState: string | null;
  remoteUpdatedAt: number | null;
  syncedAt: number | null;
  /** Orders: the header hash every unanswered create carried, MIXED, or null (see markAttempted). */
  sentHash: string | null;
  sentAuxHash: string | null;
}

/** Creates of one order carried different payloads: which one ZenFlow has is unknown. */
export const MIXED = "mixed";

/** What a record's earlier creates carried: one hash for all of them, MIXED, or null when none is recorded. */
export interface EarlierAttempts {
  header: string | null;
  lines: string | null;
}

/** The hash that stands for all attempts once another one carried `next`. */
function combineSent(earlier: string | null, next: string | null): string | null {
  if (next === null) return MIXED;
  return earlier === next ? earlier : MIXED;
}

const TABLE = Table.idMap;

/** One remote change of an entity: its state (or stock level), ZenFlow's time, its event id. */
export interface RemoteVersion {
  state: string;
  at: number;
  eventId: string;
  /** Position along ZenFlow's fulfilment order (orders); 0 where there is none (stock). */
  rank: number;
  /** Stock: the level this change says came before it (previous_quantity). */
  previous?: string | null;
  /** How to rank a stored state (orders). */
  rankOf?: (state: string) => number;
}

/**
 * Whether `next` replaces `prev`: a strictly newer time always does, an older one never. At
 * the same instant, a change that names the other as its predecessor (stock's
 * previous_quantity) comes after it; otherwise the higher rank wins (an order moves forward
 * along Pending → In Progress → Packed → Completed → Cancelled), then the larger event id, so
 * the outcome never depends on the order the events arrived in. The same event never applies twice.
 */
export function supersedes(prev: RemoteVersion | null, next: RemoteVersion): boolean {
  if (!prev) return true;
  if (next.at !== prev.at) return next.at > prev.at;
  if (next.eventId === prev.eventId) return false;
  const nextFollows = next.previous != null && next.previous === prev.state;
  const prevFollows = prev.previous != null && prev.previous === next.state;
  if (nextFollows !== prevFollows) return nextFollows;
  if (next.rank !== prev.rank) return next.rank > prev.rank;
  return next.eventId > prev.eventId;
}
/** The binder's columns for ERP ids, references and barcodes (migration exact_identifiers). */
export const BINDER_ID_MAX = 512;

/** An ERP value too long to be stored whole is refused, never cut: a cut id is another record's id. */
function checkLengths(type: EntityType, values: Record<string, string | null | undefined>): void {
  const problems = Object.entries(values)
    .filter(([, v]) => typeof v === "string" && codePoints(v) > BINDER_ID_MAX)
    .map(([field]) => ({ field, message: `is longer than ${BINDER_ID_MAX} characters` }));
  if (problems.length) throw new MappingError(`The ERP ${type} ${clip(String(values.erpId ?? ""), 40)}…`, problems);
}

function toBinding(r: Record<string, unknown>): Binding {
  return {
    entityType: r.entity_type as EntityType,
    erpId: String(r.erp_id),
    zenflowId: r.zenflow_id == null ? null : String(r.zenflow_id),
    erpRef: (r.erp_ref as string | null) ?? null,
    barcode: (r.barcode as string | null) ?? null,
    payloadHash: (r.payload_hash as string | null) ?? null,
    auxHash: (r.aux_hash as string | null) ?? null,
    remoteState: (r.remote_state as string | null) ?? null,
    remoteUpdatedAt: numOrNull(r.remote_updated_at),
    syncedAt: numOrNull(r.synced_at),
    sentHash: (r.sent_hash as string | null) ?? null,
    sentAuxHash: (r.sent_aux_hash as string | null) ?? null,
  };
}

export interface BindInput {
  erpId: string;
  zenflowId?: string | null;
  erpRef?: string | null;
  barcode?: string | null;
  payloadHash?: string | null;
  auxHash?: string | null;
  /** Cleared (null) once a create is answered: nothing is in doubt any more. */
  sentHash?: null;
  sentAuxHash?: null;
}

export interface AttemptInput {
  erpId: string;
  erpRef: string | null;
  barcode?: string | null;
  /** What this create carries (orders: header and lines hashes). */
  sentHash?: string | null;
  sentAuxHash?: string | null;
}

export class Binder {
  constructor(
    private readonly db: Knex,
    private readonly clock: Clock,
  ) {}

  async toExternal(type: EntityType, erpId: string): Promise<Binding | null> {
    const r = await this.db(TABLE).where({ entity_type: type, erp_id: erpId }).first();
    return r ? toBinding(r) : null;
  }

  async toExternalMany(type: EntityType, erpIds: string[]): Promise<Map<string, Binding>> {
    const out = new Map<string, Binding>();
    for (let i = 0; i < erpIds.length; i += 500) {
      const rows = await this.db(TABLE)
        .where({ entity_type: type })
        .whereIn("erp_id", erpIds.slice(i, i + 500));
      for (const r of rows) out.set(String(r.erp_id), toBinding(r));
    }
    return out;
  }

  async toInternal(type: EntityType, zenflowId: string): Promise<Binding | null> {
    const r = await this.db(TABLE).where({ entity_type: type, zenflow_id: zenflowId }).first();
    return r ? toBinding(r) : null;
  }

  async byRef(type: EntityType, erpRef: string): Promise<Binding | null> {
    const r = await this.db(TABLE).where({ entity_type: type, erp_ref: erpRef }).first();
    return r ? toBinding(r) : null;
  }

  async byRefs(type: EntityType, refs: string[]): Promise<Map<string, Binding>> {
    const out = new Map<string, Binding>();
    for (let i = 0; i < refs.length; i += 500) {
      const rows = await this.db(TABLE)
        .where({ entity_type: type })
        .whereIn("erp_ref", refs.slice(i, i + 500));
      for (const r of rows) out.set(String(r.erp_ref), toBinding(r));
    }
    return out;
  }

  async byBarcode(type: EntityType, barcode: string): Promise<Binding | null> {
    const r = await this.db(TABLE).where({ entity_type: type, barcode }).first();
    return r ? toBinding(r) : null;
  }

  /**
   * Records that a create is about to be sent, so a later cancel knows ZenFlow may have it,
   * and what it carries, so an "existing" answer to a retry can tell whether ZenFlow's copy
   * is ours. Returns, per record, what the earlier attempts carried: a row that was there
   * without a recorded hash stands for attempts of unknown payload (MIXED).
   */
  async markAttempted(type: EntityType, items: AttemptInput[]): Promise<Map<string, EarlierAttempts>> {
    const earlier = new Map<string, EarlierAttempts>();
    if (!items.length) return earlier;
    for (const i of items) checkLengths(type, { erpId: i.erpId, erpRef: i.erpRef, barcode: i.barcode });
    const before = await this.toExternalMany(
      type,
      items.map((i) => i.erpId),
    );
    const now = this.clock.now();
    const fresh = items.filter((i) => !before.has(i.erpId));
    if (fresh.length)
      await insertIfAbsent(
        this.db,
        TABLE,
        fresh.map((i) => ({
          entity_type: type,
          erp_id: i.erpId,
          erp_ref: i.erpRef,
          barcode: i.barcode ?? null,
          sent_hash: i.sentHash ?? null,
          sent_aux_hash: i.sentAuxHash ?? null,
          created_at: now,
          updated_at: now,
        })),
        ["entity_type", "erp_id"],
      );
    for (const i of items) {
      const b = before.get(i.erpId);
      if (!b) continue;
      const prev = { header: b.sentHash ?? MIXED, lines: b.sentAuxHash ?? MIXED };
      earlier.set(i.erpId, prev);
      const header = combineSent(prev.header, i.sentHash ?? null);
      const lines = combineSent(prev.lines, i.sentAuxHash ?? null);
      if (header !== b.sentHash || lines !== b.sentAuxHash)
        await this.db(TABLE)
          .where({ entity_type: type, erp_id: i.erpId })
          .update({ sent_hash: header, sent_aux_hash: lines, updated_at: now });
    }
    return earlier;
  }

  /** Stores what ZenFlow accepted. Fields left undefined are not changed. */
  async bind(type: EntityType, input: BindInput): Promise<void> {
    checkLengths(type, { erpId: input.erpId, erpRef: input.erpRef, barcode: input.barcode });
    const now = this.clock.now();
    const values: Record<string, unknown> = { updated_at: now, synced_at: now };
    if (input.zenflowId !== undefined) values.zenflow_id = input.zenflowId;
    if (input.erpRef !== undefined) values.erp_ref = input.erpRef;
    if (input.barcode !== undefined) values.barcode = input.barcode;
    if (input.payloadHash !== undefined) values.payload_hash = input.payloadHash;
    if (input.auxHash !== undefined) values.aux_hash = input.auxHash;
    if (input.sentHash !== undefined) values.sent_hash = input.sentHash;
    if (input.sentAuxHash !== undefined) values.sent_aux_hash = input.sentAuxHash;
    await this.db(TABLE)
      .insert({ entity_type: type, erp_id: input.erpId, created_at: now, ...values })
      .onConflict(["entity_type", "erp_id"])
      .merge(values);
  }

  /**
   * Orders ZenFlow has, not yet Completed or Cancelled there, last synced before `syncedBefore`:
   * the least recently checked first (the status backstop).
   */
  async openOrdersToCheck(syncedBefore: number, limit: number): Promise<Binding[]> {
    const rows = await this.db(TABLE)
      .where({ entity_type: "order" })
      .whereNotNull("zenflow_id")
      .andWhere((q) => q.whereNull("remote_state").orWhereNotIn("remote_state", ["Completed", "Cancelled"]))
      .andWhere("synced_at", "<", syncedBefore)
      .orderByRaw("COALESCE(checked_at, 0) ASC")
      .limit(limit);
    return rows.map(toBinding);
  }

  async markChecked(type: EntityType, erpId: string, at: number): Promise<void> {
    await this.db(TABLE).where({ entity_type: type, erp_id: erpId }).update({ checked_at: at });
  }

  /**
   * Records `next` as the entity's remote state if it supersedes the one applied before
   * (see supersedes()); returns whether it did. A compare-and-set on what was read, so two
   * processes applying events of one entity at once cannot both win.
   */
  async advanceRemoteState(type: EntityType, erpId: string, next: RemoteVersion): Promise<boolean> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const row = await this.db(TABLE).where({ entity_type: type, erp_id: erpId }).first();
      if (!row) return false;
      const prev: RemoteVersion | null =
        row.remote_updated_at == null
          ? null
          : {
              state: String(row.remote_state ?? ""),
              at: num(row.remote_updated_at),
              eventId: row.remote_event_id == null ? "" : String(row.remote_event_id),
              rank: next.rankOf?.(String(row.remote_state ?? "")) ?? 0,
              previous: row.remote_previous == null ? null : String(row.remote_previous),
            };
      if (!supersedes(prev, next)) return false;
      const same = (column: string, v: unknown) => (q: Knex.QueryBuilder) =>
        v == null ? q.whereNull(column) : q.where(column, v as string);
      const n = await this.db(TABLE)
        .where({ entity_type: type, erp_id: erpId })
        .andWhere(same("remote_updated_at", row.remote_updated_at))
        .andWhere(same("remote_state", row.remote_state))
        .andWhere(same("remote_event_id", row.remote_event_id))
        .update({
          remote_state: next.state,
          remote_updated_at: next.at,
          remote_event_id: clip(next.eventId, 128),
          remote_previous: next.previous == null ? null : clip(next.previous, 32),
          updated_at: this.clock.now(),
        });
      if (num(n) > 0) return true;
    }
    return false;
  }
}
