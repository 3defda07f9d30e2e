// The only way API answers are written, so a "reset-after" fault can swallow any
// answer after the handler has done its work.
import type { Response } from "express";
import { ApiError, errorBody } from "./errors";

export function send(res: Response, status: number, body: unknown): void {
  if (res.locals.resetAfter === true) {
    // "Created but the answer was lost": state changed, the client sees a dead socket.
    res.socket?.destroy();
    return;
  }
  if (res.headersSent || res.destroyed) return;
  res.status(status).json(body);
}

export function ok(res: Response, data: unknown, status = 200): void {
  send(res, status, { success: true, data });
}

export function fail(res: Response, err: ApiError): void {
  send(res, err.status, errorBody(err.code, err.message, err.details));
}

export function failWith(res: Response, status: number, code: string, message: string): void {
  fail(res, new ApiError(status, code, message));
}
