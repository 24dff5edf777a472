import { Hono } from 'hono';
import {
  createPublicClient,
  verifyTaskWebhook,
  WebhookVerificationError,
  type ConnectOptions,
  type GenerationRequest,
  type TaskWebhook,
} from '../src';

/**
 * An example BFF: the web app's server, which the browser calls on its own origin with the customer's
 * `aio_` key. It forwards generation requests and status polls to the Worker with that key, through
 * the typed client, and receives the Worker's webhooks, trusting one only once its Standard Webhooks
 * signature checks out. Any runtime that serves a `fetch` handler runs it (Workers, Node with
 * @hono/node-server, Bun, Deno).
 */
export interface BffOptions extends ConnectOptions {
  /** The account's signing secret, `whsec_…`: `GET /api/v1/webhooks/secret` with its key. */
  webhookSecret: string;
  /** A verified webhook: the finished task, and the delivery's `webhook-id` to deduplicate on. */
  onTaskFinished: (task: TaskWebhook, webhookId: string) => Promise<void> | void;
}

/** The Worker's answer passed on as it came: status, JSON body, and the headers a caller acts on. */
function passOn(response: Response, body: unknown): Response {
  const headers = new Headers({ 'content-type': 'application/json' });
  for (const name of ['x-request-id', 'retry-after', 'ratelimit', 'ratelimit-policy', 'idempotent-replayed', 'preference-applied']) {
    const value = response.headers.get(name);
    if (value !== null) headers.set(name, value);
  }
  return new Response(JSON.stringify(body), { status: response.status, headers });
}

export function createBff(options: BffOptions): Hono {
  const { webhookSecret, onTaskFinished, ...connect } = options;
  const worker = createPublicClient(connect);
  return (
    new Hono()
      // The customer's own key, from the browser, goes on to the Worker: the BFF holds no customer secrets.
      .post('/api/v1/images/generations', async (c) => {
        const authorization = c.req.header('authorization') ?? '';
        let body: GenerationRequest;
        try {
          // The Worker validates every field and answers 400 naming the bad one; the BFF does not second-guess it.
          body = await c.req.json<GenerationRequest>();
        } catch {
          const error = { type: 'invalid_request_error', code: 'invalid_json', message: 'Request body is not valid JSON.', param: null };
          return c.json({ error }, 400);
        }
        const idempotencyKey = c.req.header('idempotency-key');
        const { data, error, response } = await worker.POST('/api/v1/images/generations', {
          headers: { authorization },
          // A retry of the browser's stays a retry: the Worker answers it without creating a second task.
          params: { header: idempotencyKey ? { 'Idempotency-Key': idempotencyKey } : {} },
          body,
        });
        return passOn(response, data ?? error);
      })
      .get('/api/v1/tasks/:task_id', async (c) => {
        const { data, error, response } = await worker.GET('/api/v1/tasks/{task_id}', {
          headers: { authorization: c.req.header('authorization') ?? '' },
          params: { path: { task_id: c.req.param('task_id') } },
        });
        return passOn(response, data ?? error);
      })
      // The URL given as `callback_url`. The body is read as text: the signature is over these exact bytes.
      .post('/webhooks/tasks', async (c) => {
        let task: TaskWebhook;
        try {
          task = verifyTaskWebhook(webhookSecret, await c.req.text(), c.req.raw.headers);
        } catch (err) {
          if (err instanceof WebhookVerificationError) return c.json({ error: 'invalid webhook signature' }, 401);
          throw err;
        }
        await onTaskFinished(task, c.req.header('webhook-id') ?? '');
        // Any 2xx ends the Worker's retries.
        return c.body(null, 204);
      })
  );
}
