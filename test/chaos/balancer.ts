// The ERP's public address in front of its processes, as a load balancer provides it in
// production: ZenFlow's webhooks go to one URL whichever process is alive. Requests are
// spread round-robin; a process that refuses the connection (killed, restarting) is skipped.
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface Balancer {
  url: string;
  readonly stats: { forwarded: number; failedOver: number; unavailable: number };
  close(): Promise<void>;
}

export async function startBalancer(backends: () => string[]): Promise<Balancer> {
  const stats = { forwarded: 0, failedOver: 0, unavailable: 0 };
  const agent = new http.Agent({ keepAlive: false });
  let next = 0;

  const forward = (target: string, req: http.IncomingMessage, body: Buffer): Promise<http.IncomingMessage> =>
    new Promise((resolve, reject) => {
      const u = new URL(req.url ?? "/", target);
      const out = http.request(
        {
          agent,
          hostname: u.hostname,
          port: u.port,
          path: u.pathname + u.search,
          method: req.method,
          headers: { ...req.headers, host: u.host },
        },
        resolve,
      );
      out.on("error", reject);
      out.setTimeout(30_000, () => out.destroy(new Error("backend timeout")));
      out.end(body);
    });

  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const targets = backends();
    for (let i = 0; i < targets.length; i++) {
      const target = targets[(next + i) % targets.length]!;
      try {
        const upstream = await forward(target, req, body);
        next = (next + i + 1) % Math.max(1, targets.length);
        stats.forwarded++;
        if (i > 0) stats.failedOver++;
        res.writeHead(upstream.statusCode ?? 502, upstream.headers);
        upstream.pipe(res);
        return;
      } catch (err) {
        // Only a refused connection is safe to retry elsewhere: the request never reached the process.
        if ((err as { code?: string }).code !== "ECONNREFUSED") {
          res.destroy();
          return;
        }
      }
    }
    stats.unavailable++;
    res.writeHead(502, { "content-type": "application/json" }).end('{"error":"no ERP process available"}');
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stats,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
