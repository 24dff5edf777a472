import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { WEBHOOK_SECRET_PATTERN } from '../../../src/accounts/webhook-secrets';
import { api, customer, INTERNAL } from '../../helpers';
import { currentSecret, deliveries, receiver, settledWebhookTask, taskWithCallback } from '../../receiver';

const rotate = (accountId: string, json?: unknown, headers: Record<string, string> = INTERNAL) =>
  api(`/internal/v1/accounts/${accountId}/webhook-secret`, { method: 'POST', headers, ...(json === undefined ? {} : { json }) });

/** Runs a task to a delivered webhook and returns that delivery. */
async function deliveredOnce(auth: Record<string, string>) {
  const hook = receiver();
  const taskId = await taskWithCallback(auth, hook.url);
  expect((await settledWebhookTask(auth, taskId)).webhook?.status).toBe('delivered');
  const [delivery] = await deliveries(hook.name);
  return delivery!;
}

describe('GET /api/v1/webhooks/secret', () => {
  it('returns a whsec_ secret, created on first use and stable after', async () => {
    const { auth } = await customer();
    const res = await api('/api/v1/webhooks/secret', { headers: auth });
    expect(res.status).toBe(200);
    const body = await res.json<{ secret: string; created_at: string; previous: unknown[] }>();
    expect(body.secret).toMatch(WEBHOOK_SECRET_PATTERN);
    expect(atob(body.secret.slice('whsec_'.length)).length).toBeGreaterThanOrEqual(24);
    expect(body.previous).toEqual([]);
    expect(await currentSecret(auth)).toBe(body.secret);
    expect(await currentSecret((await customer()).auth)).not.toBe(body.secret);
  });

  it('needs an API key', async () => {
    expect((await api('/api/v1/webhooks/secret')).status).toBe(401);
  });
});

describe('POST /internal/v1/accounts/{account_id}/webhook-secret', () => {
  it('rotates: during the grace period deliveries verify with the old and the new secret', async () => {
    const { accountId, auth } = await customer(undefined, 100);
    const oldSecret = await currentSecret(auth);

    const res = await rotate(accountId);
    expect(res.status).toBe(200);
    const rotated = await res.json<{ account_id: string; secret: string; previous: { expires_at: string }[] }>();
    expect(rotated.account_id).toBe(accountId);
    expect(rotated.secret).toMatch(WEBHOOK_SECRET_PATTERN);
    expect(rotated.secret).not.toBe(oldSecret);
    expect(rotated.previous).toHaveLength(1);
    expect(Date.parse(rotated.previous[0]!.expires_at)).toBeGreaterThan(Date.now() + 23 * 3600_000);
    expect(await currentSecret(auth)).toBe(rotated.secret);

    const delivery = await deliveredOnce(auth);
    expect(delivery.headers['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(new Webhook(oldSecret).verify(delivery.body, delivery.headers)).toEqual(JSON.parse(delivery.body));
    expect(new Webhook(rotated.secret).verify(delivery.body, delivery.headers)).toEqual(JSON.parse(delivery.body));
  });

  it('with grace_seconds 0 retires the old secret at once', async () => {
    const { accountId, auth } = await customer(undefined, 100);
    const oldSecret = await currentSecret(auth);
    const res = await rotate(accountId, { grace_seconds: 0 });
    const { secret, previous } = await res.json<{ secret: string; previous: unknown[] }>();
    expect(previous).toEqual([]);

    const delivery = await deliveredOnce(auth);
    expect(delivery.headers['webhook-signature']!.split(' ')).toHaveLength(1);
    expect(new Webhook(secret).verify(delivery.body, delivery.headers)).toEqual(JSON.parse(delivery.body));
    expect(() => new Webhook(oldSecret).verify(delivery.body, delivery.headers)).toThrow(/signature/i);
  });

  it('rejects a bad body naming the field, and callers without the internal token', async () => {
    const { accountId } = await customer();
    for (const [json, param] of [
      [{ grace_seconds: -1 }, 'grace_seconds'],
      [{ grace_seconds: 'soon' }, 'grace_seconds'],
      [{ grace_seconds: 60, extra: true }, 'extra'],
    ] as const) {
      const res = await rotate(accountId, json);
      expect(res.status).toBe(400);
      expect((await res.json<{ error: { param: string } }>()).error.param).toBe(param);
    }
    expect((await rotate(accountId, undefined, { authorization: 'Bearer nope' })).status).toBe(401);
  });
});
