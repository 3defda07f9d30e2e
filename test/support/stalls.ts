// The test process's own event-loop stalls. In the in-process stack several plugin instances,
// the sandbox and the test share one thread, so a stall (a long GC, or better-sqlite3 waiting
// synchronously for another in-process connection's write lock) delays a request that was
// already on its way before a 429 or 401 was seen; a timing check would then blame the
// plugin. Such checks widen their in-flight grace by the longest stall observed.
import { monitorEventLoopDelay } from "node:perf_hooks";

export interface StallWatch {
  /** Longest event-loop stall seen since the watch started, in real milliseconds. */
  maxMs(): number;
  stop(): void;
}

export function watchStalls(): StallWatch {
  const h = monitorEventLoopDelay({ resolution: 5 });
  h.enable();
  return {
    maxMs: () => h.max / 1e6,
    stop: () => h.disable(),
  };
}
