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
}

const TABLE = Table.idMap;
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
  };
}

export interface BindInput {
  erpId: string;
  zenflowId?: string | null;
  erpRef?: string | null;
  barcode?: string | null;
  payloadHash?: string | null;
  auxHash?: string | null;
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

  /** Records that a create is about to be sent, so a later cancel knows ZenFlow may have it. */
  async markAttempted(type: EntityType, items: { erpId: string; erpRef: string | null; barcode?: string | null }[]): Promise<void> {
    if (!items.length) return;
    for (const i of items) checkLengths(type, { erpId: i.erpId, erpRef: i.erpRef, barcode: i.barcode });
    const now = this.clock.now();
    await insertIfAbsent(
      this.db,
      TABLE,
      items.map((i) => ({
        entity_type: type,
        erp_id: i.erpId,
        erp_ref: i.erpRef,
        barcode: i.barcode ?? null,
        created_at: now,
        updated_at: now,
      })),
      ["entity_type", "erp_id"],
    );
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

  /** Applies a remote state only if it is newer than the one applied before (webhook ordering). */
  async advanceRemoteState(type: EntityType, erpId: string, state: string, at: number): Promise<boolean> {
    const n = await this.db(TABLE)
      .where({ entity_type: type, erp_id: erpId })
      .andWhere((q) => q.whereNull("remote_updated_at").orWhere("remote_updated_at", "<=", at))
      .update({ remote_state: state, remote_updated_at: at, updated_at: this.clock.now() });
    return num(n) > 0;
  }
}
