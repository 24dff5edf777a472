import { env, exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { createBff } from '../../client/examples/bff';
import { createInternalClient, createPublicClient, type Task, type TaskWebhook } from '../../client/src';
import { isTerminal } from '../../src/tasks/task.schema';
import { eventually, newAccountId, ORIGIN } from '../helpers';
import { deliveries, receiver, type Delivery } from '../receiver';

/**
 * Issue 12, item 4: the typed client (client/src, generated from the Worker's documents) and the
 * example BFF (client/examples/bff.ts) against the real Worker: every call below goes through the
 * Worker's fetch handler, and webhooks are the ones the Worker signed and delivered to a receiver.
 */

/** The clients' transport: the Worker itself, as `wrangler dev` would serve it. */
const connect = { baseUrl: ORIGIN, fetch: (request: Request) => exports.default.fetch(request) };

/** A fresh account with a key and credits, set up the way the BFF does it: through the internal client. */
async function account(credits: number): Promise<{ accountId: string; apiKey: string }> {
  const internal = createInternalClient({ ...connect, token: env.INTERNAL_API_TOKEN });
  const accountId = newAccountId('bff');
  const minted = await internal.POST('/internal/v1/accounts/{account_id}/keys', { params: { path: { account_id: accountId } } });
  expect(minted.response.status).toBe(201);
  const apiKey = minted.data!.api_key;
  const topped = await internal.POST('/internal/v1/accounts/{account_id}/credits', {
    params: { path: { account_id: accountId } },
    body: { amount: credits, reference: `order-${accountId}` },
  });
  expect(topped.data).toEqual({ account_id: accountId, balance: credits });
  return { accountId, apiKey };
}

/** The BFF of one account, with its webhook secret, recording the webhooks it accepts. */
async function bffFor(apiKey: string) {
  const secret = await createPublicClient({ ...connect, apiKey }).GET('/api/v1/webhooks/secret');
  expect(secret.response.status).toBe(200);
  const accepted: { task: TaskWebhook; webhookId: string }[] = [];
  const bff = createBff({ ...connect, webhookSecret: secret.data!.secret, onTaskFinished: (task, webhookId) => void accepted.push({ task, webhookId }) });
  return { bff, accepted };
}

/** A finished task created through the BFF with a callback to the simulator's receiver, and what the receiver got. */
async function finishedThroughBff(bff: ReturnType<typeof createBff>, apiKey: string): Promise<{ task: Task; delivery: Delivery }> {
  const hook = receiver();
  const created = await bff.request('/api/v1/images/generations', {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'flux-2', prompt: 'A paper boat on a still pond', callback_url: hook.url }),
  });
  expect(created.status).toBe(202);
  expect(created.headers.get('x-request-id')).toMatch(/^req_/);
  const { task_id } = await created.json<{ task_id: string }>();
  const task = await eventually(async () => {
    const res = await bff.request(`/api/v1/tasks/${task_id}`, { headers: { authorization: `Bearer ${apiKey}` } });
    expect(res.status).toBe(200);
    const polled = await res.json<Task>();
    return isTerminal(polled.status) ? polled : undefined;
  });
  const [delivery] = await eventually(async () => {
    const got = await deliveries(hook.name);
    return got.length > 0 ? got : undefined;
  });
  return { task, delivery: delivery! };
}

describe('the typed client and the example BFF, against the Worker', () => {
  it('mint a key and credits, generate through the BFF with the customer’s key, poll, and accept the signed webhook', async () => {
    const { accountId, apiKey } = await account(100);
    const { bff, accepted } = await bffFor(apiKey);
    const { task, delivery } = await finishedThroughBff(bff, apiKey);
    expect(task).toMatchObject({ status: 'succeeded', model: 'flux-2', credits: 5, input: { aspect_ratio: '1:1', type: 'pro' } });

    const res = await bff.request('/webhooks/tasks', { method: 'POST', headers: delivery.headers, body: delivery.body });
    expect(res.status).toBe(204);
    expect(accepted).toEqual([
      { task: expect.objectContaining({ task_id: task.task_id, status: 'succeeded' }), webhookId: delivery.headers['webhook-id'] },
    ]);

    const internal = createInternalClient({ ...connect, token: env.INTERNAL_API_TOKEN });
    const books = await internal.GET('/internal/v1/accounts/{account_id}/credits', { params: { path: { account_id: accountId } } });
    expect(books.data).toMatchObject({ balance: 95, reserved: 0 });
  });

  it('turn away a webhook whose body, signature or secret is not the one the Worker signed', async () => {
    const { apiKey } = await account(100);
    const { bff, accepted } = await bffFor(apiKey);
    const { delivery } = await finishedThroughBff(bff, apiKey);
    const tampered = [
      { headers: delivery.headers, body: delivery.body.replace('"succeeded"', '"failed"') },
      { headers: { ...delivery.headers, 'webhook-signature': 'v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=' }, body: delivery.body },
      { headers: { ...delivery.headers, 'webhook-timestamp': String(Math.floor(Date.now() / 1000) - 3600) }, body: delivery.body },
    ];
    for (const { headers, body } of tampered) {
      const res = await bff.request('/webhooks/tasks', { method: 'POST', headers, body });
      expect(res.status).toBe(401);
    }
    // Another account's BFF, with its own secret, does not take this account's webhook either.
    const other = await bffFor((await account(1)).apiKey);
    expect((await other.bff.request('/webhooks/tasks', { method: 'POST', headers: delivery.headers, body: delivery.body })).status).toBe(401);
    expect([...accepted, ...other.accepted]).toEqual([]);
  });

  it('pass the Worker’s refusals on unchanged (a bad field is a 400 naming it, a bad key a 401) and refuse malformed JSON itself', async () => {
    const { apiKey } = await account(100);
    const { bff } = await bffFor(apiKey);
    const generate = (authorization: string, body: unknown) =>
      bff.request('/api/v1/images/generations', {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const invalid = await generate(`Bearer ${apiKey}`, { model: 'flux-2', prompt: 'A kite', resolution: '8K' });
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toMatchObject({ error: { code: 'invalid_request', param: 'resolution' } });
    const malformed = await bff.request('/api/v1/images/generations', {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: '{"model": "flux-2",',
    });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ error: { code: 'invalid_json' } });
    const unknown = await generate('Bearer aio_0000000000000000000000000000000000000000', { model: 'flux-2', prompt: 'A kite' });
    expect(unknown.status).toBe(401);
    expect(await unknown.json()).toMatchObject({ error: { code: 'unauthorized' } });
  });

  it('type a request with only the required fields, the defaulted ones left to the Worker', async () => {
    const { apiKey } = await account(100);
    const customer = createPublicClient({ ...connect, apiKey });
    // Compiles without aspect_ratio, type or resolution: the generated types make defaulted fields optional.
    const { data, error, response } = await customer.POST('/api/v1/images/generations', {
      body: { model: 'flux-2', prompt: 'A lantern in the fog' },
      params: { header: { prefer: 'wait=20' } },
    });
    expect(error).toBeUndefined();
    expect(response.status).toBe(200);
    expect(data).toMatchObject({ status: 'succeeded', input: { aspect_ratio: '1:1', type: 'pro', resolution: '1K' } });
  });
});
