// A clock double for budget tests: sleeping advances time instead of waiting, so a test
// can cross minute windows in milliseconds. The sandbox and every plugin instance share it.
import type { Clock } from "../../plugin/core/clock";

export function fastClock(start = Date.now()): Clock & { advance(ms: number): void } {
  let offset = start - Date.now();
  return {
    now: () => Date.now() + offset,
    advance(ms: number) {
      offset += ms;
    },
    async sleep(ms: number, signal?: AbortSignal) {
      if (signal?.aborted) return;
      offset += Math.max(0, ms);
      await new Promise((r) => setImmediate(r));
    },
  };
}

/**
 * Time that runs `factor` times faster than real time, for every party at once (the
 * sandbox's rate windows and the plugins' budgets). Requests still take real time, so
 * unlike fastClock() in-flight requests do not jump windows.
 */
export function scaledClock(factor: number, start = Date.now()): Clock {
  const realStart = Date.now();
  return {
    now: () => start + (Date.now() - realStart) * factor,
    sleep: (ms, signal) =>
      new Promise<void>((resolve) => {
        if (signal?.aborted || ms <= 0) return resolve();
        const t = setTimeout(done, Math.max(1, ms / factor));
        function done() {
          clearTimeout(t);
          signal?.removeEventListener("abort", done);
          resolve();
        }
        signal?.addEventListener("abort", done, { once: true });
      }),
  };
}
