// A load generator in its own process (so it does not share the server's event loop), used
// by bench/webhook-ingest.ts when wrk is not installed: POSTs the bodies of the input file in
// order (starting over when it runs out) with `concurrency` requests in flight over
// keep-alive connections for `seconds` (0: each body once), and prints {wallMs, latencies, statuses} as JSON.
import { Agent, request } from "node:http";
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";

function post(url: URL, agent: Agent, body: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        method: "POST",
        hostname: url.hostname,
        port: url.port,
        path: url.pathname,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body), ...headers },
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

async function main() {
  const [url, file, conc, secs] = process.argv.slice(2);
  const items = JSON.parse(readFileSync(file!, "utf8")) as { body: string; headers: Record<string, string> }[];
  const concurrency = Number(conc ?? 200);
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const target = new URL(url!);
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let next = 0;
  const start = performance.now();
  // seconds = 0: send every body exactly once.
  const seconds = Number(secs ?? 5);
  const deadline = start + seconds * 1000;
  const more = () => (seconds > 0 ? performance.now() < deadline : next < items.length);
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (more()) {
        const item = items[next++ % items.length]!;
        const t0 = performance.now();
        const status = await post(target, agent, item.body, item.headers);
        latencies.push(performance.now() - t0);
        statuses[status] = (statuses[status] ?? 0) + 1;
      }
    }),
  );
  const wallMs = performance.now() - start;
  agent.destroy();
  process.stdout.write(JSON.stringify({ wallMs, latencies, statuses }));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
