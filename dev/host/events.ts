// The host's event bus. Events are emitted by the ERP after its transaction commits and
// delivered in this process only. Each handler is awaited (the contract makes the user's
// request wait for it), timed, and isolated: a throw is logged and otherwise ignored.
import { performance } from "node:perf_hooks";
import type { EventMeta, PluginLogger } from "../../plugin/core/host-api";
import { EventStats, type EventStat } from "./event-stats";

export type EventHandler = (payload: unknown, meta: EventMeta) => Promise<void> | void;

/** Contract section 8: handlers should return within 5 ms at p99; slower ones are logged. */
export const SLOW_HANDLER_MS = 5;

export class EventBus {
  private readonly handlers = new Map<string, Set<EventHandler>>();
  private readonly stats = new EventStats(SLOW_HANDLER_MS);

  constructor(private readonly log: PluginLogger) {}

  subscribe(name: string, handler: EventHandler): () => void {
    let set = this.handlers.get(name);
    if (!set) {
      set = new Set();
      this.handlers.set(name, set);
    }
    // Wrap so that the same function subscribed twice is two subscriptions with their own unsubscribe.
    const entry: EventHandler = (p, m) => handler(p, m);
    set.add(entry);
    return () => {
      set.delete(entry);
    };
  }

  async emit(name: string, payload: unknown, meta: EventMeta): Promise<void> {
    const set = this.handlers.get(name);
    if (!set || set.size === 0) return;
    for (const handler of [...set]) {
      const started = performance.now();
      let failed = false;
      try {
        // Each handler gets its own copy: one plugin mutating the payload must not affect the next.
        await handler(structuredClone(payload), { ...meta });
      } catch (err) {
        failed = true;
        this.log.error({ err, event: name, eventId: meta.eventId }, `plugin handler for ${name} failed`);
      }
      const ms = performance.now() - started;
      this.stats.record(name, ms, failed);
      if (ms > SLOW_HANDLER_MS) {
        this.log.warn({ event: name, eventId: meta.eventId, ms: Math.round(ms * 1000) / 1000 }, `slow plugin handler for ${name}`);
      }
    }
  }

  eventStats(): EventStat[] {
    return this.stats.snapshot();
  }
}
