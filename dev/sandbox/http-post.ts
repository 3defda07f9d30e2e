// Minimal HTTP POST used for webhook deliveries. node:http with agent:false (one
// connection per attempt) so the exact body bytes are sent, nothing is pooled that
// could keep the process alive, and close() can abort what is in flight.
import http from "node:http";
import https from "node:https";

const MAX_RESPONSE_BYTES = 64 * 1024;

export interface PostResult {
  status: number;
  body: string;
}

export function httpPost(
  url: string,
  body: Buffer,
  headers: Record<string, string>,
  timeoutMs: number,
  inflight: Set<http.ClientRequest>,
): Promise<PostResult> {
  return new Promise((resolve, reject) => {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      reject(new Error(`invalid URL ${url}`));
      return;
    }
    const mod = target.protocol === "https:" ? https : http;
    const req = mod.request(target, {
      method: "POST",
      agent: false,
      headers: { ...headers, "Content-Length": String(body.length) },
    });
    inflight.add(req);
    const timer = setTimeout(() => req.destroy(new Error(`timeout after ${timeoutMs}ms`)), timeoutMs);
    const done = () => {
      clearTimeout(timer);
      inflight.delete(req);
    };
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (c: Buffer) => {
        size += c.length;
        if (size <= MAX_RESPONSE_BYTES) chunks.push(c);
      });
      res.on("end", () => {
        done();
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") });
      });
      res.on("error", (err) => {
        done();
        reject(err);
      });
      // A connection cut mid-response may end without "end" or "error".
      res.on("close", () => {
        if (res.complete) return;
        done();
        reject(new Error("response aborted"));
      });
    });
    req.on("error", (err) => {
      done();
      reject(err);
    });
    req.end(body);
  });
}
