// A separate OS process that runs the plugin's Scheduler (plugin/runtime/scheduler.ts, with its
// Leases and KvStore) on a shared database, with a short lease, and whose one task never
// finishes: it takes the task's lease, prints RUNNING and keeps renewing until it is killed.
// test/integration/scheduler-failover.test.ts SIGKILLs it mid-run.
//   node --import tsx test/chaos/scheduler-holder.ts <databaseUrl> <holderId> <leaseMs> <tickMs>
import { openDatabase } from "../../dev/host/database";
import { systemClock } from "../../plugin/core/clock";
import { Leases } from "../../plugin/core/leases";
import { Scheduler } from "../../plugin/runtime/scheduler";
import { KvStore } from "../../plugin/core/kv-store";

const [url, holderId, leaseMs, tickMs] = process.argv.slice(2);
const db = openDatabase(url!);
const log = { debug: () => undefined, info: () => undefined, warn: console.error, error: console.error };
const scheduler = new Scheduler({
  leases: new Leases(db, systemClock),
  state: new KvStore(db, systemClock),
  clock: systemClock,
  log,
  holderId: holderId!,
  leaseMs: Number(leaseMs),
  tickMs: Number(tickMs),
});
scheduler.add({
  name: "probe",
  every: () => ({ intervalMs: 3_600_000 }),
  run: async (signal) => {
    process.stdout.write(`RUNNING ${holderId} ${Date.now()}\n`);
    await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
  },
});
scheduler.start();
