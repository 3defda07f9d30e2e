import { createHash } from "node:crypto";

/** JSON with sorted keys, so equal objects hash equally whatever their key order. */
export function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(",")}]`;
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(v ?? null);
}

export function hashOf(v: unknown): string {
  return createHash("sha256").update(stableJson(v)).digest("hex").slice(0, 40);
}
