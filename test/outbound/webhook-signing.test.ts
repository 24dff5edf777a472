import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { newWebhookSecret, WEBHOOK_SECRET_PATTERN } from '../../src/accounts/webhook-secrets';
import { signedHeaders, signPayload } from '../../src/outbound/webhook-signing';

const body = JSON.stringify({ task_id: 'task_abc', status: 'succeeded', note: 'ünïcødé ✓' });
const now = () => Math.floor(Date.now() / 1000);

describe('webhook secrets', () => {
  it('are whsec_ + base64 of 32 random bytes, different each time', () => {
    const a = newWebhookSecret();
    const b = newWebhookSecret();
    expect(a).toMatch(WEBHOOK_SECRET_PATTERN);
    expect(atob(a.slice('whsec_'.length))).toHaveLength(32);
    expect(a).not.toBe(b);
  });
});

describe('Standard Webhooks signatures', () => {
  it('verify with the standardwebhooks package', async () => {
    const secret = newWebhookSecret();
    const headers = await signedHeaders([secret], 'msg_task_abc', now(), body);
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
  });

  it('equal what the package itself signs', async () => {
    const secret = newWebhookSecret();
    const timestamp = now();
    const expected = new Webhook(secret).sign('msg_1', new Date(timestamp * 1000), body);
    expect(await signPayload(secret, 'msg_1', timestamp, body)).toBe(expected);
  });

  it('fail with another secret, another body or another id', async () => {
    const secret = newWebhookSecret();
    const headers = await signedHeaders([secret], 'msg_task_abc', now(), body);
    expect(() => new Webhook(newWebhookSecret()).verify(body, headers)).toThrow(/signature/i);
    expect(() => new Webhook(secret).verify(body.replace('succeeded', 'failed'), headers)).toThrow(/signature/i);
    expect(() => new Webhook(secret).verify(body, { ...headers, 'webhook-id': 'msg_other' })).toThrow(/signature/i);
  });

  it('carry one signature per secret during a rotation, each verifying on its own', async () => {
    const [oldSecret, newSecret] = [newWebhookSecret(), newWebhookSecret()];
    const headers = await signedHeaders([newSecret, oldSecret], 'msg_task_abc', now(), body);
    expect(headers['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(new Webhook(oldSecret).verify(body, headers)).toEqual(JSON.parse(body));
    expect(new Webhook(newSecret).verify(body, headers)).toEqual(JSON.parse(body));
  });
});
