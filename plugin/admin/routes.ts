// The admin pages on ctx.http.admin (the host only lets signed-in ERP administrators reach
// them): the dashboard, its Retry/Discard buttons and the Prometheus metrics. The router
// arrives bare, so bodies are parsed here, on the routes that need them.
import express, { type NextFunction, type Request, type RequestHandler, type Response, type Router } from "express";
import { describeError } from "../core/errors";
import { queueCounts } from "./health";
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
import type { Knex } from "knex";
import { type BudgetSnapshot, resumeSending } from "../budget/shared-budget";
import type { Clock } from "../core/clock";
import type { ErpPort } from "../core/erp-port";
import type { History } from "../core/history";
import type { HealthReport, PluginLogger } from "../core/host-api";
import type { KvStore } from "../core/kv-store";
import { createSigner, type Signer } from "./csrf";
import { type DashboardModel, renderDashboard, renderNotice } from "./dashboard-page";
import { plural } from "./format";
import { GaugeRefresher } from "./gauges";
import type { Metrics } from "./metrics";
import { latestBudget, listDeadLetters, lookup, readRuns, recentFailures } from "./queries";
import { orderTimeline } from "./order-timeline";
import { kvKey } from "../core/kv-store";
import { readProgress, requestRun } from "../core/runs";
import { readDriftReport } from "../sync/stock-drift";
import { driftCsv } from "./drift-columns";
import { renderDriftPage } from "./drift-page";
import { renderPlanPage } from "./plan-page";
import type { SendPlan } from "./send-plan";

const RETRY = "/retry";
const DISCARD = "/discard";
const RESUME = "/resume";
const DRIFT = "/drift";
const PLAN = "/plan";
const ACTOR = "an ERP admin (dashboard)";
const CSRF_KEY = kvKey<{ key: string }>("admin:csrf-key");

/** What the admin pages need of the running plugin. */
export interface AdminRouteDeps {
  db: Knex;
  clock: Clock;
  state: KvStore;
  erp: ErpPort;
  log: PluginLogger;
  history: History;
  metrics: Metrics;
  health(): Promise<HealthReport>;
  /** The shared budget under the current config, or null while unconfigured. */
  budget(): Promise<BudgetSnapshot | null>;
  /** What the next sync will do, computed now (reads only), or null while unconfigured. */
  plan(): Promise<SendPlan | null>;
  /** The plan health() shows for this many waiting (computed once for both), or null while unconfigured. */
  recentPlan(pending: number): Promise<SendPlan | null>;
  /** When this process last had a successful ZenFlow answer. */
  lastSuccessAt(): number | null;
  /** Wakes this process's workers (retried jobs are due now). */
  wake(): void;
  /** The ERP's time zone (IANA), for the order timeline's second column; UTC shows UTC only. */
  timeZone: string;
  /** Starts a requested run in this process now, unless another process holds its task. */
  startTask(name: string): void;
}

type Deps = AdminRouteDeps;

export function mountAdminRoutes(router: Router, deps: Deps): void {
  // The key lives in zenflow_state, so a form served by one ERP process verifies in another
  // (restarts, load balancers without sticky sessions).
  let signer: Promise<Signer> | null = null;
  const signerOf = (): Promise<Signer> => {
    if (!signer) {
      signer = sharedKey(deps.state).then((key) => createSigner({ key, now: () => deps.clock.now() }));
      signer.catch(() => (signer = null));
    }
    return signer;
  };
  const refresher = new GaugeRefresher(deps.metrics);
  const form = express.urlencoded({ extended: false, limit: "16kb", parameterLimit: 20 });

  router.get(
    "/",
    guard(deps, async (req, res) => {
      // Relative links and form actions need the trailing slash ("…/zenflow/"), whatever
      // prefix the host mounts us under.
      const [path = "", query] = req.originalUrl.split("?", 2);
      if (!path.endsWith("/")) {
        res.redirect(302, `${path.split("/").pop()}/${query ? `?${query}` : ""}`);
        return;
      }
      const model = await buildModel(deps, req, await signerOf());
      htmlHeaders(res);
      res.status(200).type("html").send(renderDashboard(model));
    }),
  );

  router.get(
    "/metrics",
    guard(deps, async (_req, res) => {
      const metrics = deps.metrics;
      await refresher.refresh(deps.db, await deps.budget(), deps.clock.now());
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
    guard(deps, async (req, res) => {
      const signer = await signerOf();
      if (!checkToken(signer, RETRY, req, res)) return;
      const target = String(bodyOf(req).target ?? "");
      const ops = opsDeps(deps);
      let flash: { text: string; level: "ok" | "error" };
      if (target === "all") {
        const s = await retryAllDeadLetters(ops);
        deps.log.info({ retried: s.retried, superseded: s.superseded, by: ACTOR }, "dead letters retried by an admin");
        flash =
          s.retried + s.superseded
            ? { level: "ok", text: retryAllMessage(s.retried, s.superseded) }
            : { level: "ok", text: "There were no dead letters to retry." };
      } else {
        const ref = refOrReject(target, res);
        if (!ref) return;
        const r = await retryDeadLetter(ops, ref);
        const what = describeTarget(ref, r.erpRef);
        deps.log.info(
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
      deps.wake();
      redirectWithFlash(res, signer, flash);
    }),
  );

  router.post(
    RESUME,
    form,
    guard(deps, async (req, res) => {
      const signer = await signerOf();
      if (!checkToken(signer, RESUME, req, res)) return;
      const n = await resumeSending(deps.db, deps.clock.now());
      deps.log.warn({ rows: n, by: ACTOR }, "sending to ZenFlow resumed by an admin before the pause ZenFlow asked for ended");
      deps.wake();
      redirectWithFlash(
        res,
        signer,
        n
          ? {
              level: "ok",
              text: "Sending resumed: the pause ZenFlow asked for was lifted for every ERP process. The rate budget still applies.",
            }
          : { level: "ok", text: "Sending was not paused; nothing was changed." },
      );
    }),
  );

  router.get(
    DRIFT,
    guard(deps, async (req, res) => {
      const signer = await signerOf();
      const [report, progress, sync] = await Promise.all([
        readDriftReport(deps.state),
        readProgress(deps.state, "stock-drift"),
        readProgress(deps.state, "sync-stock"),
      ]);
      htmlHeaders(res);
      res
        .status(200)
        .type("html")
        .send(
          renderDriftPage({
            now: deps.clock.now(),
            report,
            progress,
            syncStopped: sync?.status === "stopped" ? (sync.message ?? "stopped") : null,
            flash: readFlash(req, signer),
            token: signer.token(DRIFT),
          }),
        );
    }),
  );

  router.get(
    PLAN,
    guard(deps, async (_req, res) => {
      // Computed for this page: it reads the queue, the ERP and the budget, and sends nothing.
      let plan: SendPlan | null = null;
      let error: string | null = null;
      try {
        plan = await deps.plan();
      } catch (err) {
        error = describeError(err);
        deps.log.warn({ err: error }, "the send plan could not be computed for the dashboard");
      }
      htmlHeaders(res);
      res
        .status(200)
        .type("html")
        .send(renderPlanPage({ now: deps.clock.now(), plan, error, timeZone: deps.timeZone }));
    }),
  );

  router.get(
    `${DRIFT}.csv`,
    guard(deps, async (_req, res) => {
      const report = await readDriftReport(deps.state);
      const at = report ? new Date(report.generatedAt).toISOString().slice(0, 16).replace(/[-:]/g, "") : "none";
      res
        .status(200)
        .set({
          "Content-Type": "text/csv; charset=utf-8",
          "Content-Disposition": `attachment; filename="zenflow-stock-drift-${at}Z.csv"`,
          "Cache-Control": "no-store",
          "X-Content-Type-Options": "nosniff",
        })
        // A byte-order mark, so spreadsheet programs read the UTF-8 (SKUs, the arrows) as such.
        .send(`\ufeff${driftCsv(report?.rows ?? [])}`);
    }),
  );

  router.post(
    DRIFT,
    form,
    guard(deps, async (req, res) => {
      const signer = await signerOf();
      if (!checkToken(signer, DRIFT, req, res)) return;
      // The scheduler of whichever process has the task's lease picks the request up.
      await requestRun(deps.state, "stock-drift", ACTOR, deps.clock.now());
      deps.log.info({ by: ACTOR }, "stock drift report requested by an admin");
      deps.startTask("stock-drift");
      redirectWithFlash(
        res,
        signer,
        { level: "ok", text: "A new drift report was requested: it compares every level and writes nothing. Refresh to see it." },
        "drift",
      );
    }),
  );

  router.post(
    DISCARD,
    form,
    guard(deps, async (req, res) => {
      const signer = await signerOf();
      if (!checkToken(signer, DISCARD, req, res)) return;
      const ref = refOrReject(String(bodyOf(req).target ?? ""), res);
      if (!ref) return;
      const r = await discardDeadLetter(opsDeps(deps), ref, ACTOR);
      const what = describeTarget(ref, r.erpRef);
      deps.log.info(
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

async function buildModel(deps: Deps, req: Request, signer: Signer): Promise<DashboardModel> {
  const { db, clock, state, erp } = deps;
  const now = clock.now();
  const q = typeof req.query.q === "string" ? req.query.q.trim() : "";
  const [health, counts, budgets, deadLetters, failures, runs, found] = await Promise.all([
    deps.health(),
    queueCounts(db),
    // Without a valid config the limits are unknown; the last row still tells the last success.
    // Awaited inside: a promise left in the result would reject unobserved while the others run.
    deps.budget().then(async (live) => ({ live, any: live ?? (await latestBudget(db, now)) })),
    listDeadLetters(db, 100),
    recentFailures(db, 20),
    readRuns(state),
    q ? lookup(db, erp, q) : Promise.resolve(null),
  ]);
  const budget = budgets.any;
  // "When will it be sent?": the plan answers for an order that waits — the one health() just
  // computed for the same page, not a second one (a plan that fails only loses that line).
  const plan = q && counts.pending ? await deps.recentPlan(counts.pending).catch(() => null) : null;
  const timeline = q ? await orderTimeline({ db, erp, now, budget: budgets.live, plan }, q) : null;
  return {
    now,
    health,
    counts,
    budget: budgets.live,
    // The shared row is written at most every 5 s per process; this process may know a later one.
    lastSuccessAt: Math.max(budget?.lastSuccessAt ?? 0, deps.lastSuccessAt() ?? 0) || null,
    deadLetters,
    failures,
    runs,
    lookup: found,
    timeline,
    timeZone: deps.timeZone,
    flash: readFlash(req, signer),
    tokens: { retry: signer.token(RETRY), discard: signer.token(DISCARD), resume: signer.token(RESUME) },
  };
}

function opsDeps(deps: Deps): AdminOpsDeps {
  return { db: deps.db, clock: deps.clock, history: deps.history };
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

function redirectWithFlash(res: Response, signer: Signer, flash: { text: string; level: "ok" | "error" }, to = "./"): void {
  const sig = signer.sign(`${flash.level}\n${flash.text}`);
  const qs = new URLSearchParams({ flash: flash.text, level: flash.level, sig });
  // Relative: from ".../zenflow/retry" this is ".../zenflow/", whatever the mount prefix.
  res.redirect(303, `${to}?${qs.toString()}`);
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

/** Runs a handler; express 4 does not catch rejected promises, so errors are answered here. */
function guard(deps: Deps, fn: (req: Request, res: Response) => Promise<void>): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    fn(req, res).catch((err: unknown) => {
      deps.log.error({ path: req.path, err: describeError(err) }, "ZenFlow admin page failed");
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
async function sharedKey(state: KvStore): Promise<Buffer> {
  // Whichever process stored it first wins; everyone reads the same key back.
  const { key } = await state.getOrInit(CSRF_KEY, () => ({ key: randomBytes(32).toString("base64") }));
  return Buffer.from(key, "base64");
}
