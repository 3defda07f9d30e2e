// `zenflow-erp plan`: asks a running plugin what the next sync will do (admin/send-plan.ts),
// waits for the answer, and prints it (a table, or everything with --json). Sends nothing.
import { plural, utc } from "../admin/format";
import { type StoredPlan, budgetUsedText, readStoredPlan, refsText } from "../admin/send-plan";
import type { Progress } from "../core/runs";
import { printable } from "../core/text";
import { type CliContext, EXIT, type FollowOptions, runCommand } from "./commands";

/** Requests the text output lists one by one. */
const TEXT_REQUESTS = 20;

export async function planCommand(c: CliContext, o: FollowOptions): Promise<number> {
  return runCommand(c, "plan", { ...o, label: "Send plan", onEnd: printPlan });
}

async function printPlan(c: CliContext, p: Progress): Promise<number> {
  const plan = p.status === "done" ? await readStoredPlan(c.state) : null;
  if (!plan) {
    if (c.json) c.out(`${JSON.stringify({ run: "plan", status: p.status, message: p.message ?? null }, null, 2)}\n`);
    else c.out(`Send plan ${p.status}: ${printable(p.message ?? "no reason recorded")}\n`);
    return EXIT.failure;
  }
  c.out(c.json ? `${JSON.stringify(planJson(plan), null, 2)}\n` : formatPlan(plan, c.clock.now()));
  return EXIT.ok;
}

export function planJson(p: StoredPlan) {
  const iso = (ms: number | null) => (ms ? new Date(ms).toISOString() : null);
  return {
    ...p,
    generatedAt: iso(p.generatedAt),
    pausedUntil: iso(p.pausedUntil),
    throughAt: iso(p.throughAt),
    kinds: p.kinds.map((k) => ({ ...k, nextAt: iso(k.nextAt), held: k.held ? { ...k.held, until: iso(k.held.until) } : null })),
    requests: p.requests.map((r) => ({ ...r, notBefore: iso(r.notBefore), at: iso(r.at) })),
    windows: p.windows.map((w) => ({ ...w, start: iso(w.start) })),
  };
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

export function formatPlan(p: StoredPlan, now: number): string {
  const t = (ms: number | null) => (ms ? utc(ms, now) : "-");
  const lines = [
    `Next sync as of ${utc(p.generatedAt, now)}: ${p.summary}. Nothing was sent.`,
    budgetUsedText(p) + (p.pausedUntil ? `; paused until ${t(p.pausedUntil)} (${printable(p.pauseReason ?? "paused")})` : ""),
    "",
    table([
      ["kind", "due", "requests", "without request", "held back", "being sent", "not routed", "later (retries)"],
      ...p.kinds.map((k) => [
        k.kind,
        String(k.due),
        String(k.requests),
        String(k.withoutRequest),
        k.held ? `${k.held.jobs} until ${t(k.held.until)}` : "-",
        String(k.running),
        String(k.unrouted),
        k.later ? `${k.later}, next ${t(k.nextAt)}` : "-",
      ]),
    ]),
  ];
  if (p.requests.length) {
    const shown = p.requests.slice(0, TEXT_REQUESTS);
    lines.push(
      "",
      table([
        ["token at", "kind", "request", "jobs", "why now", "carries"],
        ...shown.map((r) => [
          r.at ? t(r.at) : "later",
          r.kind,
          r.endpoint,
          r.estimated ? "~" : String(r.jobIds.length),
          r.estimated ? "estimate" : r.why,
          printable(refsText(r.refs)),
        ]),
      ]),
    );
    if (p.requestCount > shown.length)
      lines.push(`(the first ${shown.length} of ${plural(p.requestCount, "request")}; --json lists up to ${p.requests.length})`);
  }
  return `${lines.join("\n")}\n`;
}
