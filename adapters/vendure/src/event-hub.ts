// ctx.events for one process: handlers by event name, limited to the manifest's hooks. Each
// handler is awaited, and a throw or a rejection is logged and goes no further: a plugin
// must never break the Vendure request or job that caused the event.
import { performance } from "node:perf_hooks";
import type { ErpEventMap, ErpEventName, EventMeta, PluginLogger } from "zenflow-erp-plugin/host-api";

type Handler = (payload: never, meta: EventMeta) => Promise<void> | void;

/** Contract section 8: handlers should return within 5 ms at p99; slower ones are logged. */
const SLOW_HANDLER_MS = 5;

export class EventHub {
  private readonly handlers = new Map<string, Set<Handler>>();

  constructor(
    private readonly hooks: ReadonlySet<string>,
    private readonly log: PluginLogger,
  ) {}

  on<E extends ErpEventName>(name: E, handler: (payload: ErpEventMap[E], meta: EventMeta) => Promise<void> | void): () => void {
    if (!this.hooks.has(name)) {
      this.log.debug({ event: name }, `event ${name} is not in the manifest's hooks: handler ignored`);
      return () => undefined;
    }
    let set = this.handlers.get(name);
    if (!set) this.handlers.set(name, (set = new Set()));
    const entry: Handler = (p, m) => handler(p as ErpEventMap[E], m);
    set.add(entry);
    return () => void set.delete(entry);
  }

  /** True when somebody listens: lets the mapper skip loading entities nobody wants. */
  wants(name: ErpEventName): boolean {
    return (this.handlers.get(name)?.size ?? 0) > 0;
  }

  async emit<E extends ErpEventName>(name: E, payload: ErpEventMap[E], meta: EventMeta): Promise<void> {
    for (const handler of [...(this.handlers.get(name) ?? [])]) {
      const started = performance.now();
      try {
        await handler(structuredClone(payload) as never, { ...meta });
      } catch (err) {
        this.log.error({ err, event: name, eventId: meta.eventId }, `ZenFlow handler for ${name} failed`);
      }
      const ms = performance.now() - started;
      if (ms > SLOW_HANDLER_MS) this.log.debug({ event: name, ms: Math.round(ms * 1000) / 1000 }, `slow ZenFlow handler for ${name}`);
    }
  }

  clear(): void {
    this.handlers.clear();
  }
}
