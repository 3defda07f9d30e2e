// /webhooks endpoints (docs §8.1): create and list only.
import { Router } from "express";
import type { SandboxContext } from "../context";
import { ok } from "../respond";
import { createWebhook, publicWebhook } from "../webhooks";

export function webhookRoutes(ctx: SandboxContext): Router {
  const r = Router();

  r.post("/webhooks", (req, res) => {
    ok(res, createWebhook(ctx, req.body), 201);
  });

  r.get("/webhooks", (_req, res) => {
    ok(res, { webhooks: ctx.state.webhooks.map(publicWebhook) });
  });

  return r;
}
