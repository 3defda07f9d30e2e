import { createHash } from "node:crypto";

/** A stable id for an API key (budget row, webhook registration); the key itself is never stored. */
export function keyIdOf(apiKey: string): string {
  return createHash("sha256").update(`zenflow-budget:${apiKey}`).digest("hex").slice(0, 32);
}
