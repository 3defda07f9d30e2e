// A small JSON API over the ERP's own operations, behind admin auth, so that tests and the
// demo can drive a host running in another OS process.
import express, { type NextFunction, type Request, type Response, type Router } from "express";
import type { EventStat } from "./event-stats";
import type { Erp } from "./erp";
import { erpError } from "./erp";

const STATUS_BY_CODE: Record<string, number> = { not_found: 404, invalid: 400, conflict: 409, unavailable: 503 };

export function statusForError(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? STATUS_BY_CODE[code] : undefined;
}

function param(req: Request, name: string): string {
  const v = req.params[name];
  return typeof v === "string" ? v : "";
}

function body(req: Request): Record<string, unknown> {
  const b: unknown = req.body;
  if (typeof b !== "object" || b === null || Array.isArray(b)) throw erpError("invalid", "a JSON object body is required");
  return b as Record<string, unknown>;
}

export function erpRouter(erp: Erp, eventStats: () => EventStat[]): Router {
  const r = express.Router();
  r.use(express.json({ limit: "2mb" }));

  // Test faults (dev/host/erp/faults.ts): {"loseEvents": true}, {"hang": {"method": "orders.get", "arg": "…"}}, {"release": true}.
  r.post("/faults", (req, res) => {
    const b = (req.body ?? {}) as { loseEvents?: unknown; hang?: { method?: unknown; arg?: unknown }; release?: unknown };
    if (typeof b.loseEvents === "boolean") erp.faults.loseEvents = b.loseEvents;
    if (b.hang && typeof b.hang.method === "string")
      erp.faults.hang(b.hang.method, typeof b.hang.arg === "string" ? b.hang.arg : undefined);
    if (b.release === true) erp.faults.release();
    res.json({ loseEvents: erp.faults.loseEvents, inFlight: erp.faults.inFlight, maxInFlight: erp.faults.maxInFlight });
  });
  r.get("/orders", async (_req, res) => {
    res.json({ items: await erp.listOrders() });
  });
  r.post("/orders", async (req, res) => {
    res.status(201).json(await erp.createOrder(body(req) as never));
  });
  r.get("/orders/:id", async (req, res) => {
    const id = param(req, "id");
    const order = await erp.getOrder(id);
    if (!order) throw erpError("not_found", `order ${id} not found`);
    const [shipment, notes, history] = await Promise.all([erp.shipment(id), erp.notes(id), erp.history(id)]);
    res.json({ order, shipment, notes, history });
  });
  r.patch("/orders/:id", async (req, res) => {
    res.json(await erp.updateOrder(param(req, "id"), body(req) as never));
  });
  r.post("/orders/:id/cancel", async (req, res) => {
    const reason = (req.body as { reason?: unknown } | undefined)?.reason;
    if (reason !== undefined && typeof reason !== "string") throw erpError("invalid", "reason must be a string");
    res.json(await erp.cancelOrder(param(req, "id"), reason));
  });

  r.post("/products", async (req, res) => {
    res.status(201).json(await erp.createProduct(body(req) as never));
  });
  r.get("/products/:id", async (req, res) => {
    const product = await erp.getProduct(param(req, "id"));
    if (!product) throw erpError("not_found", `product ${param(req, "id")} not found`);
    res.json(product);
  });
  r.patch("/products/:id", async (req, res) => {
    res.json(await erp.updateProduct(param(req, "id"), body(req) as never));
  });
  r.delete("/products/:id", async (req, res) => {
    await erp.deleteProduct(param(req, "id"));
    res.status(204).end();
  });

  r.put("/stock", async (req, res) => {
    res.json(await erp.setStock(body(req) as never));
  });
  r.get("/stock", async (req, res) => {
    const sku = typeof req.query.sku === "string" ? req.query.sku : undefined;
    const locationId = typeof req.query.locationId === "string" ? req.query.locationId : undefined;
    if (sku !== undefined && locationId !== undefined) {
      res.json({ sku, locationId, quantity: await erp.getStock(sku, locationId) });
      return;
    }
    const items = await erp.listStock(locationId ? { locationId } : {});
    res.json({ items: sku === undefined ? items : items.filter((i) => i.sku === sku) });
  });

  r.post("/events", async (req, res) => {
    const b = body(req);
    if (typeof b.name !== "string") throw erpError("invalid", "name must be a string");
    const meta = b.meta === undefined ? {} : b.meta;
    if (typeof meta !== "object" || meta === null) throw erpError("invalid", "meta must be an object");
    res.json({ meta: await erp.emit(b.name, b.payload, meta as never) });
  });
  r.get("/event-stats", (_req, res) => {
    res.json(eventStats());
  });

  r.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    const status = statusForError(err);
    if (status === undefined) {
      next(err);
      return;
    }
    res.status(status).json({ error: (err as Error).message, code: (err as { code: string }).code });
  });
  return r;
}
