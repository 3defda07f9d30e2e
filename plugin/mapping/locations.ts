// ERP stock locations ↔ ZenFlow location_id (pure). The ERP's ids are its own strings; the
// admin maps them in settings. Unmapped ERP locations use the default location, or their
// own id when no default is set.
import type { ZenflowConfig } from "../core/config";

export function toZenflowLocation(config: Pick<ZenflowConfig, "locationMap" | "defaultLocationId">, erpLocation: string): string {
  return config.locationMap[erpLocation] ?? (config.defaultLocationId || erpLocation);
}

/**
 * The ERP location for a ZenFlow location: the first ERP location mapped to it (in the order
 * the admin wrote the map), else the same id. A ZenFlow location only reachable as the
 * default for unmapped ERP locations cannot be told apart, so it maps to its own id too.
 */
export function toErpLocation(config: Pick<ZenflowConfig, "locationMap">, zenflowLocation: string): string {
  for (const [erp, zf] of Object.entries(config.locationMap)) if (zf === zenflowLocation) return erp;
  return zenflowLocation;
}
