// The ZenFlow webhook subscription: one per installation, pointing at
//   <ctx.http.publicUrl>/webhooks/<token>
// where <token> is a random path segment (requests to any other path are 404). One process
// at a time (scheduler lease) makes sure it exists for the events the config needs, stores
// the secret ZenFlow returns (once) sealed under the API key, and keeps earlier secrets
// valid for a grace period so that deliveries already queued at ZenFlow still verify.
import { randomBytes } from "node:crypto";
import type { Clock } from "../core/clock";
import type { ZenflowConfig } from "../core/config";
import { keyIdOf } from "../core/key-id";
import type { PluginLogger } from "../core/host-api";
import { type KvStore, kvKey } from "../core/kv-store";
import type { ZenflowClient } from "../zenflow/client";
import { open, seal } from "./secret-box";

/** How long a replaced secret still verifies deliveries. */
export const ROTATION_GRACE_MS = 7 * 24 * 3_600_000;

const TOKEN_KEY = kvKey<{ token: string }>("webhook:token");
const REGISTRATION_KEY = kvKey<Registration>("webhook:registration");
/** Why the subscription could not be made (shown by health), while it cannot. */
export const WEBHOOK_PROBLEM_KEY = kvKey<{ at: number; message: string; scope?: string }>("webhook:problem");

export const ORDER_EVENTS = ["order/updated", "order/completed", "order/cancelled"];

export interface Registration {
  keyId: string;
  url: string;
  events: string[];
  subscriptionId: string;
  secret: string; // sealed
  createdAt: number;
  previous: { secret: string; until: number }[]; // sealed
}

export function desiredEvents(config: ZenflowConfig): string[] {
  return [...ORDER_EVENTS, ...(config.stockSource === "zenflow" ? ["stock/updated"] : [])];
}

/** The path token, created once per installation. */
export async function webhookToken(state: KvStore): Promise<string> {
  // Two processes starting at once both get the token that landed first: a second one
  // would replace the URL the first one already registered at ZenFlow.
  return (await state.getOrInit(TOKEN_KEY, () => ({ token: randomBytes(24).toString("base64url") }))).token;
}

export async function webhookUrl(state: KvStore, publicUrl: string): Promise<string> {
  return `${publicUrl.replace(/\/+$/, "")}/webhooks/${await webhookToken(state)}`;
}

export async function readRegistration(state: KvStore): Promise<Registration | null> {
  return state.get(REGISTRATION_KEY);
}

/** Every secret that may sign a delivery now: the current one, unexpired earlier ones, and the admin's override. */
export function validSecrets(reg: Registration | null, config: ZenflowConfig, now: number): string[] {
  const out: string[] = [];
  if (config.webhookSecret) out.push(config.webhookSecret);
  if (reg && reg.keyId === keyIdOf(config.apiKey)) {
    const current = reg.secret ? open(config.apiKey, reg.secret) : null;
    if (current) out.push(current);
    for (const p of reg.previous) {
      if (p.until <= now) continue;
      const s = open(config.apiKey, p.secret);
      if (s) out.push(s);
    }
  }
  return out;
}

/**
 * The API key changed: the secrets sealed under the old one are sealed again under the new
 * one, so deliveries ZenFlow still signs with them verify for ROTATION_GRACE_MS, as promised.
 * The current secret becomes a previous one (its subscription belongs to the old key; the next
 * subscription check makes a new one). Run by every process that sees the change; the first
 * one's write wins and the others find nothing left under the old key.
 */
export async function resealForNewKey(state: KvStore, oldApiKey: string, newApiKey: string, now: number): Promise<boolean> {
  const reg = await readRegistration(state);
  if (!reg || reg.keyId !== keyIdOf(oldApiKey) || keyIdOf(oldApiKey) === keyIdOf(newApiKey)) return false;
  const reseal = (sealed: string) => {
    const plain = sealed ? open(oldApiKey, sealed) : null;
    return plain ? seal(newApiKey, plain) : null;
  };
  const current = reseal(reg.secret);
  const previous = [
    ...(current ? [{ secret: current, until: now + ROTATION_GRACE_MS }] : []),
    ...reg.previous
      .filter((p) => p.until > now)
      .flatMap((p) => {
        const s = reseal(p.secret);
        return s ? [{ secret: s, until: p.until }] : [];
      }),
  ].slice(0, 5);
  await state.set(REGISTRATION_KEY, { ...reg, keyId: keyIdOf(newApiKey), secret: "", previous });
  return true;
}

export interface EnsureDeps {
  client: ZenflowClient;
  state: KvStore;
  config: ZenflowConfig;
  publicUrl: string;
  clock: Clock;
  log: PluginLogger;
}

export type EnsureOutcome = "kept" | "created" | "manual";

/**
 * Makes sure a subscription with our URL and events exists and that we hold its secret.
 * ZenFlow documents no way to update or delete a subscription: when the events or the key
 * change, a new one is created and the old one is reported for the admin to delete.
 */
export async function ensureSubscription(deps: EnsureDeps): Promise<EnsureOutcome> {
  const { client, state, config, clock, log } = deps;
  const url = await webhookUrl(state, deps.publicUrl);
  const events = desiredEvents(config);
  const keyId = keyIdOf(config.apiKey);
  const reg = await readRegistration(state);
  const haveSecret = !!reg && reg.keyId === keyId && !!open(config.apiKey, reg.secret);
  const sameShape = !!reg && reg.url === url && events.every((e) => reg.events.includes(e));

  if (haveSecret && sameShape) {
    const remote = (await client.webhooks.list()).data;
    const mine = remote.find((w) => w.id === reg!.subscriptionId);
    if (mine && mine.active !== false) return "kept";
    log.warn({ subscriptionId: reg!.subscriptionId }, "the ZenFlow webhook subscription is gone or inactive; creating a new one");
  } else if (config.webhookSecret && !reg) {
    // The admin created the subscription by hand and gave us its secret.
    return "manual";
  }

  const created = (await client.webhooks.create({ name: "ERP sync (zenflow plugin)", url, events })).data;
  if (!created.secret)
    throw new Error(
      "ZenFlow created the webhook subscription but returned no secret; create it in ZenFlow's dashboard and paste its secret into the plugin settings",
    );
  const now = clock.now();
  // Earlier secrets keep verifying for a while: ZenFlow may still deliver under them.
  const previous = (reg?.keyId === keyId ? [{ secret: reg.secret, until: now + ROTATION_GRACE_MS }, ...reg.previous] : [])
    .filter((p) => p.secret && p.until > now)
    .slice(0, 5);
  const next: Registration = {
    keyId,
    url,
    events,
    subscriptionId: created.id,
    secret: seal(config.apiKey, created.secret),
    createdAt: now,
    previous,
  };
  await state.set(REGISTRATION_KEY, next);
  log.info({ subscriptionId: created.id, events }, "ZenFlow webhook subscription created");
  if (reg && reg.subscriptionId !== created.id) {
    log.warn(
      { old: reg.subscriptionId, new: created.id },
      "an older ZenFlow webhook subscription may still exist (ZenFlow has no API to delete it): delete it in ZenFlow's dashboard",
    );
  }
  return "created";
}
