// /orders endpoints (docs §5.3–§5.8).
import { Router } from "express";
import type { SandboxContext } from "../context";
import type { FieldError } from "../errors";
import { notFound } from "../errors";
import { cancelOrder, createOrders, orderDetail, orderListItem, orderStatus, updateOrder } from "../orders";
import { ok } from "../respond";
import { datePart } from "../time";
import { paginate, parseIntegerId, parsePaging, queryBool, queryDate, throwIfQueryErrors } from "../validate";
import { param, query } from "./params";

export function orderRoutes(ctx: SandboxContext): Router {
  const r = Router();

  r.get("/orders", (req, res) => {
    const q = query(req);
    const errors: FieldError[] = [];
    const paging = parsePaging(q, errors);
    const rawStates = q.state_id === undefined ? [] : Array.isArray(q.state_id) ? (q.state_id as unknown[]) : [q.state_id];
    const states = rawStates.map((s) => {
      if (typeof s !== "string" || !/^\d+$/.test(s)) errors.push({ field: "state_id", message: "Must be an integer" });
      return Number(s);
    });
    const startDate = queryDate(q, "start_date", errors);
    const endDate = queryDate(q, "end_date", errors);
    const assemblyDate = queryDate(q, "assembly_date", errors);
    throwIfQueryErrors(errors);
    const includeDetails = queryBool(q, "include_details");
    // Date filters compare the UTC date of created_at, inclusive (timezone not documented).
    const matching = [...ctx.state.orders.values()]
      .filter(
        (o) =>
          (states.length === 0 || states.includes(o.state_id)) &&
          (startDate === undefined || datePart(o.created_at) >= startDate) &&
          (endDate === undefined || datePart(o.created_at) <= endDate) &&
          (assemblyDate === undefined || o.assembly_date === assemblyDate),
      )
      .sort((a, b) => a.id - b.id);
    const { slice, pagination } = paginate(matching, paging);
    ok(res, { orders: slice.map((o) => orderListItem(o, includeDetails)), pagination });
  });

  r.post("/orders", (req, res) => {
    const { status, data } = createOrders(ctx, req.body);
    ok(res, data, status);
  });

  r.get("/orders/:id", (req, res) => {
    const o = ctx.state.orders.get(parseIntegerId(param(req, "id"), "Order"));
    if (!o) throw notFound("Order not found");
    ok(res, orderDetail(o));
  });

  r.put("/orders/:id", (req, res) => {
    ok(res, updateOrder(ctx, parseIntegerId(param(req, "id"), "Order"), req.body));
  });

  r.post("/orders/:id/cancel", (req, res) => {
    ok(res, cancelOrder(ctx, param(req, "id"), req.body));
  });

  r.get("/orders/:id/status", (req, res) => {
    const o = ctx.state.orders.get(parseIntegerId(param(req, "id"), "Order"));
    if (!o) throw notFound("Order not found");
    ok(res, orderStatus(o));
  });

  return r;
}
