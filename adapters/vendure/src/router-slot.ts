// Vendure's middleware is fixed at configuration time, before the plugin activates, and
// express cannot unmount a router. So each mount point is a slot looked up per request: the
// current activation's router when active, else a 503 (the plugin is starting or stopping).
import type { NextFunction, Request, Response, Router } from "express";

export class RouterSlot {
  private router: Router | null = null;

  readonly handler = (req: Request, res: Response, next: NextFunction): void => {
    const router = this.router;
    if (!router) {
      res.status(503).type("text/plain").send("ZenFlow is not active in this Vendure process");
      return;
    }
    router(req, res, next);
  };

  mount(router: Router): void {
    this.router = router;
  }

  unmount(): void {
    this.router = null;
  }
}
