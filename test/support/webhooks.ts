// Test helpers for the webhook endpoint: register the subscription, then post signed or
// unsigned bodies to the plugin's public URL like ZenFlow (or an attacker) would.
import assert from "node:assert/strict";
import { readRegistration, webhookToken } from "../../plugin/webhooks/registration";
import { open } from "../../plugin/webhooks/secret-box";
import { sign } from "../../plugin/webhooks/signature";
import type { Stack } from "./stack";

export interface Hook {
  url: string;
  secret: string;
  post(body: string | Buffer, headers?: Record<string, string>, url?: string): Promise<{ status: number; json: Record<string, unknown> }>;
  signed(envelope: unknown, secret?: string): Promise<{ status: number; json: Record<string, unknown> }>;
}

/** Registers the subscription and returns a client for the plugin's webhook endpoint. */
export async function webhookClient(stack: Stack): Promise<Hook> {
  const v = stack.main.plugin.runtime()!;
  assert.equal(await v.engine!.scheduler.runTask("webhook-subscription"), "ran");
  const reg = (await readRegistration(v.parts.state))!;
  const secret = open(v.config!.apiKey, reg.secret)!;
  const url = `${stack.main.host.ctx.http.publicUrl}/webhooks/${await webhookToken(v.parts.state)}`;
  const post = async (body: string | Buffer, headers: Record<string, string> = {}, to = url) => {
    const res = await fetch(to, {
      method: "POST",
      body: new Uint8Array(Buffer.from(body)),
      headers: { "content-type": "application/json", ...headers },
    });
    const text = await res.text();
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(text);
    } catch {
      json = { text };
    }
    return { status: res.status, json };
  };
  return {
    url,
    secret,
    post,
    signed: (envelope, s = secret) => {
      const body = JSON.stringify(envelope);
      return post(body, { "X-ZenFlow-Signature": sign(s, body) });
    },
  };
}

let seq = 0;
export function envelope(event: string, data: Record<string, unknown>, createdAt = new Date().toISOString()) {
  return { id: `evt_test_${Date.now()}_${++seq}`, event, created_at: createdAt, data };
}
