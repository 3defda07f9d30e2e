// A plugin's routers are mounted through a slot that is looked up on every request, so that
// disable/enable can swap them (express has no way to remove a mounted router). An empty
// slot falls through to the host's 404.
import type { NextFunction, Request, RequestHandler, Response, Router } from "express";

export class RouterSlot {
  private router: Router | null = null;

  readonly handler: RequestHandler = (req: Request, res: Response, next: NextFunction) => {
    const router = this.router;
    if (!router) {
      next();
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

  get mounted(): boolean {
    return this.router !== null;
  }
}
