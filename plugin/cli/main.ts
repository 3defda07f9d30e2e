#!/usr/bin/env node
// zenflow-erp: the plugin's command line (package bin). It works on the ERP's database
// (DATABASE_URL) only and never needs the API key: work it asks for is done by the ERP
// processes running the plugin. Exit codes: 0 ok, 1 failure or unhealthy, 2 usage error,
// 3 database unreachable (or without the plugin's tables).
import { hostname, userInfo } from "node:os";
import { parseArgs } from "node:util";
import type { Knex } from "knex";
import { type Clock, systemClock } from "../core/clock";
import type { RunName } from "../core/runs";
import { KvStore } from "../core/kv-store";
import { parseDeadLetterRef } from "../outbox/admin-ops";
import {
  CliUsageError,
  EXIT,
  type CliContext,
  replayWebhookCommand,
  resumeCommand,
  retryDeadCommand,
  lookupCommand,
  runCommand,
  statusCommand,
} from "./commands";
import { DatabaseUnreachable, UsageError, checkDatabase, openCliDatabase } from "../core/database";
import type { TextSink } from "./progress-bar";
import { stockDriftCommand } from "./stock-drift";
import { planCommand } from "./plan";

export const USAGE = `Usage: zenflow-erp <command> [options]

Commands:
  status                       sync health, queues, dead letters, rate budget, import progress
  retry-dead <job>… | --all    send dead letters again (job ids as shown by status: 12, inbox:7)
  replay-webhook <event-id>    process a received ZenFlow webhook again
  lookup <order>               one order's timeline: what happened to it and what comes next (UTC)
  resume                       lift a pause ZenFlow asked for (Retry-After), for every ERP process
  import-catalog [--no-wait]   start the catalog import and show its progress
  sync-stock [--no-wait]       start a full stock sync and show its progress
  sync-stock-anyway [--no-wait]  the same, once, even if the drift guard stopped it
  stock-drift [--no-wait]      compare every stock level and list those that differ; writes nothing
  plan                         what the next sync will do: requests, budget windows, when all is sent

Options:
  --json            machine-readable output on stdout
  --no-wait         import-catalog, sync-stock(-anyway), stock-drift, plan: only request the run
  --timeout <s>     import-catalog, sync-stock(-anyway), stock-drift, plan: stop watching after s seconds (exit 1)
  -h, --help        this text

Environment: DATABASE_URL (sqlite:/path/erp.sqlite or mysql://user:password@host:3306/erp), the ERP's database.
Exit codes: 0 ok, 1 failure or not healthy, 2 usage error, 3 database unreachable.
`;

export interface CliIo {
  out: (text: string) => void;
  err: TextSink;
  env: NodeJS.ProcessEnv;
  clock?: Clock;
  /** Poll interval while following a run; default 500 ms. */
  pollMs?: number;
}

function actor(): string {
  try {
    return `command line (${userInfo().username}@${hostname()})`;
  } catch {
    return `command line (${hostname()})`;
  }
}

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        json: { type: "boolean", default: false },
        all: { type: "boolean", default: false },
        "no-wait": { type: "boolean", default: false },
        timeout: { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (err) {
    io.err.write(`zenflow-erp: ${(err as Error).message}\n\n${USAGE}`);
    return EXIT.usage;
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values.help) {
    io.out(USAGE);
    return EXIT.ok;
  }
  if (!command) {
    io.err.write(USAGE);
    return EXIT.usage;
  }
  const known = [
    "status",
    "retry-dead",
    "replay-webhook",
    "lookup",
    "resume",
    "import-catalog",
    "sync-stock",
    "sync-stock-anyway",
    "stock-drift",
    "plan",
  ];
  if (!known.includes(command)) {
    io.err.write(`zenflow-erp: unknown command "${command}"\n\n${USAGE}`);
    return EXIT.usage;
  }
  let timeoutMs: number | null = null;
  if (values.timeout !== undefined) {
    const s = Number(values.timeout);
    if (!Number.isFinite(s) || s <= 0) {
      io.err.write(`zenflow-erp: --timeout wants a number of seconds\n`);
      return EXIT.usage;
    }
    timeoutMs = s * 1000;
  }
  // Arguments are checked before the database is touched.
  let run: (c: CliContext) => Promise<number>;
  try {
    run = plan(command, rest, { all: values.all, wait: !values["no-wait"], timeoutMs, pollMs: io.pollMs ?? 500 });
  } catch (err) {
    io.err.write(`zenflow-erp: ${(err as Error).message}\n`);
    return EXIT.usage;
  }
  const url = io.env.DATABASE_URL;
  if (!url) {
    io.err.write("zenflow-erp: set DATABASE_URL to the ERP's database (sqlite:/path/erp.sqlite or mysql://user:password@host:3306/erp)\n");
    return EXIT.usage;
  }

  let db: Knex | null = null;
  try {
    db = openCliDatabase(url);
    await checkDatabase(db, url);
    const clock = io.clock ?? systemClock;
    return await run({ db, state: new KvStore(db, clock), clock, json: values.json, out: io.out, err: io.err, actor: actor() });
  } catch (err) {
    if (err instanceof CliUsageError || err instanceof UsageError) {
      io.err.write(`zenflow-erp: ${err.message}\n`);
      return EXIT.usage;
    }
    if (err instanceof DatabaseUnreachable) {
      io.err.write(`zenflow-erp: ${err.message}\n`);
      return EXIT.database;
    }
    io.err.write(`zenflow-erp: ${(err as Error)?.message ?? String(err)}\n`);
    return EXIT.failure;
  } finally {
    await db?.destroy().catch(() => undefined);
  }
}

/** The command to run, with its arguments checked (CliUsageError otherwise). */
function plan(
  command: string,
  rest: string[],
  o: { all: boolean; wait: boolean; timeoutMs: number | null; pollMs: number },
): (c: CliContext) => Promise<number> {
  switch (command) {
    case "status":
      if (rest.length) throw new CliUsageError("status takes no arguments");
      return (c) => statusCommand(c);
    case "retry-dead":
      if (o.all && rest.length) throw new CliUsageError("give either --all or job ids, not both");
      if (o.all) return (c) => retryDeadCommand(c, "all");
      if (!rest.length) throw new CliUsageError("retry-dead needs job ids (as shown by `status`, e.g. 12 or inbox:7) or --all");
      {
        const refs = rest.map((id) => {
          const ref = parseDeadLetterRef(id);
          if (!ref) throw new CliUsageError(`"${id}" is not a job id (use 12, outbox:12 or inbox:7)`);
          return ref;
        });
        return (c) => retryDeadCommand(c, refs);
      }
    case "lookup": {
      const [order, ...more] = rest;
      if (!order?.trim() || more.length) throw new CliUsageError("lookup takes one ERP order number (or ERP id, or ZenFlow id)");
      return (c) => lookupCommand(c, order);
    }
    case "resume":
      if (rest.length) throw new CliUsageError("resume takes no arguments");
      return (c) => resumeCommand(c);
    case "replay-webhook": {
      const [eventId, ...more] = rest;
      if (!eventId || more.length) throw new CliUsageError("replay-webhook takes the webhook's event id");
      return (c) => replayWebhookCommand(c, eventId);
    }
    default: {
      if (rest.length) throw new CliUsageError(`${command} takes no arguments`);
      const follow = { wait: o.wait, timeoutMs: o.timeoutMs, pollMs: o.pollMs };
      if (command === "stock-drift") return (c) => stockDriftCommand(c, follow);
      if (command === "plan") return (c) => planCommand(c, follow);
      if (command === "sync-stock-anyway") return (c) => runCommand(c, "sync-stock", { ...follow, ignoreDriftGuard: true });
      return (c) => runCommand(c, command as RunName, follow);
    }
  }
}

if (require.main === module) {
  process.on("SIGINT", () => {
    // Nothing the CLI started runs in this process: the ERP keeps working on it.
    process.stderr.write("\nStopped watching. Work already requested goes on in the ERP; `zenflow-erp status` shows it.\n");
    process.exit(130);
  });
  runCli(process.argv.slice(2), {
    out: (text) => process.stdout.write(text),
    err: { write: (text) => process.stderr.write(text), isTTY: !!process.stderr.isTTY },
    env: process.env,
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`zenflow-erp: ${(err as Error)?.message ?? String(err)}\n`);
      process.exitCode = EXIT.failure;
    },
  );
}
