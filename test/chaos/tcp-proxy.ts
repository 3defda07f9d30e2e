// A TCP proxy between the ERP processes and MariaDB, so the chaos runner can do what a
// failing database or network does: drop every open connection at once and refuse new
// ones for a while. Bytes pass through untouched; the proxy never parses the protocol.
import net from "node:net";
import type { AddressInfo } from "node:net";

export interface TcpProxy {
  port: number;
  /** Destroys every open connection and refuses new ones for `ms`. */
  drop(ms: number): Promise<void>;
  readonly stats: { accepted: number; refused: number; dropped: number; drops: number };
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const pairs = new Set<{ client: net.Socket; upstream: net.Socket }>();
  const stats = { accepted: 0, refused: 0, dropped: 0, drops: 0 };
  let refuseUntil = 0;

  const server = net.createServer((client) => {
    if (Date.now() < refuseUntil) {
      // A reset rather than a clean close: what a client sees from a database that is gone.
      stats.refused++;
      client.resetAndDestroy();
      return;
    }
    stats.accepted++;
    const upstream = net.connect(target.port, target.host);
    const pair = { client, upstream };
    pairs.add(pair);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });

  return {
    port: (server.address() as AddressInfo).port,
    stats,
    async drop(ms) {
      stats.drops++;
      refuseUntil = Date.now() + ms;
      for (const { client, upstream } of [...pairs]) {
        stats.dropped++;
        client.resetAndDestroy();
        upstream.destroy();
      }
      pairs.clear();
      await new Promise((r) => setTimeout(r, ms));
    },
    close() {
      for (const { client, upstream } of pairs) {
        client.destroy();
        upstream.destroy();
      }
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
