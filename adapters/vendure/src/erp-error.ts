// Errors from ctx.erp carry the contract's string codes.
import type { ErpErrorCode } from "zenflow-erp-plugin/host-api";
import { InvalidQuery } from "./paging";

export class ErpError extends Error {
  constructor(
    readonly code: ErpErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "ErpError";
  }
}

/** Vendure's ErrorResult objects (returned, not thrown) have an errorCode and a message. */
export function isErrorResult(v: unknown): v is { errorCode: string; message: string } {
  return typeof v === "object" && v !== null && typeof (v as { errorCode?: unknown }).errorCode === "string";
}

/** Anything else Vendure throws while we call it: the database or a service is not available. */
export function asErpError(err: unknown): ErpError {
  if (err instanceof ErpError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new ErpError("unavailable", `Vendure could not complete the request: ${message}`);
}

/** Runs one ctx.erp call: bad queries become `invalid`, Vendure's failures `unavailable`. */
export async function guarded<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof InvalidQuery) throw new ErpError("invalid", err.message);
    throw asErpError(err);
  }
}
