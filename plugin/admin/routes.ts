// The admin pages on ctx.http.admin (the host only lets signed-in ERP administrators reach
// them): the dashboard, its Retry/Discard buttons and the Prometheus metrics. The router
// arrives bare, so bodies are parsed here, on the routes that need them.
import express, { type NextFunction, type Request, type RequestHandler, type Response, type Router } from "express";
import { describeError } from "../errors";
import { queueCounts } from "../health";
import {
  type AdminOpsDeps,
  type DeadLetterRef,
  discardDeadLetter,
  formatDeadLetterRef,
  parseDeadLetterRef,
  retryAllDeadLetters,
  retryDeadLetter,
} from "../outbox/admin-ops";
import { randomBytes } from "node:crypto";
import type { PluginView, ViewFn } from "../view";
import { createSigner, type Signer } from "./csrf";
import { type DashboardModel, renderDashboard, renderNotice } from "./dashboard-page";
import { plural } from "./format";
import { GaugeRefresher } from "./gauges";
import type { Metrics } from "./metrics";
import { latestBudget, listDeadLetters, lookup, readRuns, recentFailures } from "./queries";

const RETRY = "/retry";
const DISCARD = "/discard";
const ACTOR = "an ERP admin (dashboard)";

export function mountAdminRoutes(router: Router, view: ViewFn): void {
  // The key lives in zenflow_state, so a form served by one ERP process verifies in another
  // (restarts, load balancers without sticky sessions).
  const signers = new WeakMap<object, Promise<Signer>>();
  const signerOf = (v: PluginView): Promise<Signer> => {
    let s = signers.get(v.shared.state);
    if (!s) {
      s = sharedKey(v).then((key) => createSigner({ key, now: () => view()?.shared.clock.now() ?? Date.now() }));
      s.catch(() => signers.delete(v.shared.state));
      signers.set(v.shared.state, s);
    }
    return s;
  };
  const refreshers = new WeakMap<Metrics, GaugeRefresher>();
  const form = express.urlencoded({ extended: false, limit: "16kb", parameterLimit: 20 });

  router.get(
    "/",
    guard(view, async (v, req, res) => {
      // Relative links and form actions need the trailing slash ("…/zenflow/"), whatever
      // prefix the host mounts us under.
      const [path = "", query] = req.originalUrl.split("?", 2);
      if (!path.endsWith("/")) {
        res.redirect(302, `${path.split("/").pop()}/${query ? `?${query}` : ""}`);
        return;
      }
      const model = await buildModel(v, req, await signerOf(v));
      htmlHeaders(res);
      res.status(200).type("html").send(renderDashboard(model));
    }),
  );

  router.get(
    "/metrics",
    guard(view, async (v, _req, res) => {
      const metrics = v.shared.metrics;
      let refresher = refreshers.get(metrics);
      if (!refresher) refreshers.set(metrics, (refresher = new GaugeRefresher(metrics)));
      const budget = v.engine ? await v.engine.budget.snapshot() : null;
      await refresher.refresh(v.shared.db, budget, v.shared.clock.now());
      res
        .status(200)
        .set("Content-Type", metrics.registry.contentType)
        .set("Cache-Control", "no-store")
        .send(await metrics.registry.metrics());
    }),
  );

  router.post(
    RETRY,
    form,
    guard(view, async (v, req, res) => {
      const signer = await signerOf(v);
      if (!checkToken(signer, RETRY, req, res)) return;
      const target = String(bodyOf(req).target ?? "");
      const deps = opsDeps(v);
      let flash: { text: string; level: "ok" | "error" };
      if (target === "all") {
        const s = await retryAllDeadLetters(deps);
        v.shared.log.info({ retried: s.retried, superseded: s.superseded, by: ACTOR }, "dead letters retried by an admin");
        flash =
          s.retried + s.superseded
            ? { level: "ok", text: retryAllMessage(s.retried, s.superseded) }
            : { level: "ok", text: "There were no dead letters to retry." };
      } else {
        const ref = refOrReject(target, res);
        if (!ref) return;
        const r = await retryDeadLetter(deps, ref);
        const what = describeTarget(ref, r.erpRef);
        v.shared.log.info(
          { jobId: ref.id, queue: ref.queue, erpRef: r.erpRef, outcome: r.outcome, by: ACTOR },
          "dead letter retried by an admin",
        );
        flash =
          r.outcome === "retried"
            ? { level: "ok", text: `Retrying ${what}: it is queued to be sent now.` }
            : r.outcome === "superseded"
              ? { level: "ok", text: `${what} already had a newer change waiting; that change (with the latest data) is being sent now.` }
              : { level: "error", text: `${what} is not a dead letter any more (already retried or discarded); nothing was changed.` };
      }
      // Wake both workers: the retried rows are due now.
      v.engine?.notify();
      v.engine?.notifyInbox();
      redirectWithFlash(res, signer, flash);
    }),
  );

  router.post(
    DISCARD,
    form,
    guard(view, async (v, req, res) => {
      const signer = await signerOf(v);
      if (!checkToken(signer, DISCARD, req, res)) return;
      const ref = refOrReject(String(bodyOf(req).target ?? ""), res);
      if (!ref) return;
      const r = await discardDeadLetter(opsDeps(v), ref, ACTOR);
      const what = describeTarget(ref, r.erpRef);
      v.shared.log.info(
        { jobId: ref.id, queue: ref.queue, erpRef: r.erpRef, discarded: r.discarded, by: ACTOR },
        "dead letter discarded by an admin",
      );
      redirectWithFlash(
        res,
        signer,
        r.discarded
          ? { level: "ok", text: `Discarded ${what}: it will not be sent. Its history keeps the last error.` }
          : { level: "error", text: `${what} is not a dead letter any more (already retried or discarded); nothing was changed.` },
      );
    }),
  );
}

async function buildModel(v: PluginView, req: Request, signer: Signer): Promise<DashboardModel> {
  const { db, clock, state, erp } = v.shared;
  const now = clock.now();
  const q = typeof req.query.q === "string" ? req.query.q.trim() : "";
  const [health, counts, budget, deadLetters, failures, runs, found] = await Promise.all([
    v.health(),
    queueCounts(db),
    // Without a valid config the limits are unknown; the last row still tells the last success.
    v.engine ? v.engine.budget.snapshot() : latestBudget(db, now),
    listDeadLetters(db, 100),
    recentFailures(db, 20),
    readRuns(state),
    q ? lookup(db, erp, q) : Promise.resolve(null),
  ]);
  return {
    now,
    health,
    counts,
    budget: v.engine ? budget : null,
    // The shared row is written at most every 5 s per process; this process may know a later one.
    lastSuccessAt: Math.max(budget?.lastSuccessAt ?? 0, v.shared.lastSuccessAt ?? 0) || null,
    deadLetters,
    failures,
    runs,
    lookup: found,
    flash: readFlash(req, signer),
    tokens: { retry: signer.token(RETRY), discard: signer.token(DISCARD) },
  };
}

function opsDeps(v: PluginView): AdminOpsDeps {
  return { db: v.shared.db, clock: v.shared.clock, history: v.shared.history };
}

function bodyOf(req: Request): Record<string, unknown> {
  const b: unknown = req.body;
  return b && typeof b === "object" ? (b as Record<string, unknown>) : {};
}

function checkToken(signer: Signer, action: string, req: Request, res: Response): boolean {
  if (signer.verify(action, bodyOf(req).csrf)) return true;
  htmlHeaders(res);
  res
    .status(403)
    .type("html")
    .send(
      renderNotice(
        "Nothing was changed",
        "This button's page is too old or did not come from this dashboard (or was served by another ERP process that has since restarted). Open the dashboard again and click once more.",
      ),
    );
  return false;
}

function refOrReject(target: string, res: Response): DeadLetterRef | null {
  const ref = parseDeadLetterRef(target);
  if (ref) return ref;
  htmlHeaders(res);
  res.status(400).type("html").send(renderNotice("Nothing was changed", "The button did not name a job."));
  return null;
}

function describeTarget(ref: DeadLetterRef, erpRef: string | null): string {
  return erpRef ? `${erpRef} (${formatDeadLetterRef(ref)})` : formatDeadLetterRef(ref);
}

function retryAllMessage(retried: number, superseded: number): string {
  const extra = superseded ? `; ${plural(superseded, "other")} already had a newer change waiting, which is being sent instead` : "";
  return `Retrying ${plural(retried, "dead letter")}: queued to be sent now${extra}.`;
}

function redirectWithFlash(res: Response, signer: Signer, flash: { text: string; level: "ok" | "error" }): void {
  const sig = signer.sign(`${flash.level}\n${flash.text}`);
  const qs = new URLSearchParams({ flash: flash.text, level: flash.level, sig });
  // Relative: from ".../zenflow/retry" this is ".../zenflow/", whatever the mount prefix.
  res.redirect(303, `./?${qs.toString()}`);
}

function readFlash(req: Request, signer: Signer): DashboardModel["flash"] {
  const { flash, level, sig } = req.query;
  if (typeof flash !== "string" || (level !== "ok" && level !== "error")) return null;
  return signer.check(`${level}\n${flash}`, sig) ? { text: flash, level } : null;
}

// Framing by the same origin only: a platform's own admin (Vendure's dashboard) embeds the
// page in an iframe, while a page on another site still cannot overlay the buttons.
function htmlHeaders(res: Response): void {
  res.set({
    "Content-Security-Policy":
      "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'self'; base-uri 'none'",
    "X-Frame-Options": "SAMEORIGIN",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
  });
}

/** Runs a handler with the live view; express 4 does not catch rejected promises, so errors are answered here. */
function guard(view: ViewFn, fn: (v: PluginView, req: Request, res: Response) => Promise<void>): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const v = view();
    if (!v) {
      htmlHeaders(res);
      res.status(503).type("html").send(renderNotice("ZenFlow plugin not active", "The ZenFlow plugin is not active in this ERP process."));
      return;
    }
    fn(v, req, res).catch((err: unknown) => {
      v.shared.log.error({ path: req.path, err: describeError(err) }, "ZenFlow admin page failed");
      if (res.headersSent) return next(err);
      htmlHeaders(res);
      res
        .status(500)
        .type("html")
        .send(
          renderNotice(
            "The dashboard could not be shown",
            `The plugin could not read its tables in the ERP database: ${describeError(err)}`,
          ),
        );
    });
  };
}

/** The dashboard's signing key, shared by every process through zenflow_state; created once. */
async function sharedKey(v: PluginView): Promise<Buffer> {
  const KEY = "admin:csrf-key";
  const existing = await v.shared.state.get<{ key: string }>(KEY);
  if (existing?.key) return Buffer.from(existing.key, "base64");
  await v.shared
    .db("zenflow_state")
    .insert({ key: KEY, value: JSON.stringify({ key: randomBytes(32).toString("base64") }), updated_at: v.shared.clock.now() })
    .onConflict("key")
    .ignore();
  // Whichever process inserted first wins; everyone reads the same key back.
  return Buffer.from((await v.shared.state.get<{ key: string }>(KEY))!.key, "base64");
}
