// Route parameter access: Express 5 types params as string | string[].
import type { Request } from "express";

export function param(req: Request, name: string): string {
  const v = req.params[name];
  return typeof v === "string" ? v : "";
}

export function query(req: Request): Record<string, unknown> {
  return req.query as Record<string, unknown>;
}
