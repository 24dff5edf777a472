import createClient, { type Client, type ClientOptions } from 'openapi-fetch';
import { Webhook } from 'standardwebhooks';
import type { components, paths as PublicPaths, webhooks } from './generated/public';
import type { paths as InternalPaths } from './generated/internal';

/**
 * Typed clients for the Worker's two APIs, for the BFF: openapi-fetch over the types openapi-typescript
 * generates from the Worker's OpenAPI documents (`npm run openapi` regenerates both; `npm test` fails
 * while they are stale). Paths, bodies, answers and error bodies are checked by TypeScript; nothing
 * is validated at run time, the Worker does that.
 */

export type { InternalPaths, PublicPaths };
export type Task = components['schemas']['Task'];
export type ApiError = components['schemas']['Error'];
/** `POST /api/v1/images/generations`: `model` and that model's fields; defaulted fields may be left out. */
export type GenerationRequest = PublicPaths['/api/v1/images/generations']['post']['requestBody']['content']['application/json'];
/** What a `callback_url` receives (the `task.finished` webhook): the task. */
export type TaskWebhook = webhooks['task.finished']['post']['requestBody']['content']['application/json'];

export type PublicClient = Client<PublicPaths>;
export type InternalClient = Client<InternalPaths>;

/** Where the Worker is, and how to reach it (`fetch`: another transport, such as a service binding). */
export interface ConnectOptions {
  /** The Worker's origin, such as `https://images.example.com` (no path). */
  baseUrl: string;
  fetch?: ClientOptions['fetch'];
}

/**
 * The customer API. With `apiKey`, every call carries it; without, pass the customer's own
 * `Authorization` per call (`headers: { authorization }`), as a BFF forwarding for many customers does.
 */
export function createPublicClient(options: ConnectOptions & { apiKey?: string }): PublicClient {
  const { apiKey, ...connect } = options;
  return createClient<PublicPaths>({ ...connect, headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {} });
}

/** The internal API (keys, credits, limits, webhook secrets), with the BFF's `INTERNAL_API_TOKEN`. */
export function createInternalClient(options: ConnectOptions & { token: string }): InternalClient {
  const { token, ...connect } = options;
  return createClient<InternalPaths>({ ...connect, headers: { authorization: `Bearer ${token}` } });
}

/**
 * A webhook delivery checked with the Standard Webhooks library against the account's signing secret
 * (`GET /api/v1/webhooks/secret`): the task when the signature is one of ours over exactly these bytes
 * and the timestamp is recent, else a `WebhookVerificationError` thrown. `body` must be the raw text
 * received, not re-serialised JSON. Deliveries repeat (same `webhook-id`): deduplicate on that id.
 */
export function verifyTaskWebhook(secret: string, body: string, headers: Headers): TaskWebhook {
  const signed = {
    'webhook-id': headers.get('webhook-id') ?? '',
    'webhook-timestamp': headers.get('webhook-timestamp') ?? '',
    'webhook-signature': headers.get('webhook-signature') ?? '',
  };
  return new Webhook(secret).verify(body, signed) as TaskWebhook;
}

export { WebhookVerificationError } from 'standardwebhooks';
