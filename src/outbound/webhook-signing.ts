import { accountStub } from '../accounts/account.do';
import type { Env } from '../env';

const encoder = new TextEncoder();

function base64(bytes: ArrayBuffer): string {
  return btoa(String.fromCharCode(...new Uint8Array(bytes)));
}

/** The HMAC key of a `whsec_` secret: the base64 after the prefix, decoded, as the spec says. */
function secretBytes(secret: string): Uint8Array {
  const raw = atob(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret);
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

/**
 * One Standard Webhooks `v1` signature: `v1,` + base64 HMAC-SHA256 of `{id}.{timestamp}.{body}`,
 * over exactly the body bytes that are sent.
 */
export async function signPayload(secret: string, webhookId: string, timestamp: number, body: string): Promise<string> {
  const key = await crypto.subtle.importKey('raw', secretBytes(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = await crypto.subtle.sign('HMAC', key, encoder.encode(`${webhookId}.${timestamp}.${body}`));
  return `v1,${base64(mac)}`;
}

/**
 * The three Standard Webhooks headers for a body signed with each of `secrets`. Several signatures
 * are space-separated, which is how the spec lets a receiver switch secrets without downtime.
 */
export async function signedHeaders(
  secrets: readonly string[],
  webhookId: string,
  timestamp: number,
  body: string,
): Promise<Record<string, string>> {
  const signatures = await Promise.all(secrets.map((secret) => signPayload(secret, webhookId, timestamp, body)));
  return {
    'webhook-id': webhookId,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signatures.join(' '),
  };
}

/**
 * Headers of one delivery attempt, signed with the account's current secret and any retired secret
 * still in its grace period. `webhook-id` stays the same across retries; the timestamp is this attempt's.
 */
export async function webhookHeaders(
  env: Env,
  accountId: string,
  webhookId: string,
  body: string,
  nowMs: number,
): Promise<Record<string, string>> {
  const { current, previous } = await accountStub(env, accountId).webhookSecrets();
  const secrets = [current.secret, ...previous.map((s) => s.secret)];
  return signedHeaders(secrets, webhookId, Math.floor(nowMs / 1000), body);
}
