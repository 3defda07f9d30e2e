// The webhook envelope `{id, event, created_at, data}` (zenflow-api.md §8.5), validated
// after the signature. Event names arrive as `order/updated` (API reference) or
// `order.updated` (ERP guide); both are accepted and stored in the slash form.
import { z } from "zod";

export const envelopeSchema = z.object({
  id: z.string().min(1).max(128),
  event: z.string().min(1).max(64),
  created_at: z.string().min(1).max(64),
  data: z.record(z.string(), z.unknown()),
});
export type Envelope = z.output<typeof envelopeSchema>;

export function normalizeEvent(name: string): string {
  return name.trim().toLowerCase().replace(".", "/");
}

/** Epoch ms of an ISO timestamp, or null. */
export function instant(v: unknown): number | null {
  if (typeof v !== "string") return null;
  const t = Date.parse(v);
  return Number.isFinite(t) ? t : null;
}
