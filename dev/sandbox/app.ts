// Assembles the Express app: the API under /api/v1, the control API under /__sandbox.
import express, { type Express } from "express";
import type { SandboxContext } from "./context";
import { controlRoutes } from "./control-api";
import type { SandboxControls } from "./controls";
import { errorBody } from "./errors";
import { apiErrorHandler, apiNotFound, apiPipeline } from "./pipeline";
import { orderRoutes } from "./routes/orders";
import { productRoutes } from "./routes/products";
import { stockRoutes } from "./routes/stock";
import { webhookRoutes } from "./routes/webhooks";

export function buildApp(ctx: SandboxContext, controls: SandboxControls): Express {
  const app = express();
  app.disable("x-powered-by");
  app.disable("etag"); // a real API answers 200 with a body, not 304
  app.use(
    "/api/v1",
    ...apiPipeline(ctx),
    orderRoutes(ctx),
    productRoutes(ctx),
    stockRoutes(ctx),
    webhookRoutes(ctx),
    apiNotFound,
    apiErrorHandler,
  );
  app.use("/__sandbox", controlRoutes(ctx, controls));
  app.use((_req, res) => {
    res.status(404).json(errorBody("not_found", "Route not found"));
  });
  return app;
}
