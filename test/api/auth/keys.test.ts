import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { api, customer, INTERNAL, newAccountId } from '../../helpers';

async function errorCode(res: Response): Promise<string> {
  return (await res.json<{ error: { code: string } }>()).error.code;
}

describe('customer API keys', () => {
  it.each([
    ['no Authorization header', {}],
    ['a scheme other than Bearer', { authorization: 'Basic YWxhZGRpbjpvcGVuc2VzYW1l' }],
    ['a malformed key', { authorization: 'Bearer sk-not-ours' }],
    ['an unknown key', { authorization: `Bearer aio_${'x'.repeat(40)}` }],
  ])('answers 401 to %s', async (_name, headers) => {
    const res = await api('/api/v1/billing/credits', { headers });
    expect(res.status).toBe(401);
    expect(await errorCode(res)).toBe('unauthorized');
    expect(res.headers.get('x-request-id')).toBeTruthy();
  });

  it('mints keys shown once, stores only their hash, and stops a revoked key at once', async () => {
    const accountId = newAccountId();
    const minted = await api(`/internal/v1/accounts/${accountId}/keys`, { method: 'POST', headers: INTERNAL });
    expect(minted.status).toBe(201);
    const key = await minted.json<{ key_id: string; api_key: string; account_id: string; created_at: string }>();
    expect(key.api_key).toMatch(/^aio_[0-9A-Za-z]{32,}$/);
    expect(key.account_id).toBe(accountId);

    const stored = await env.KV.list();
    const values = await Promise.all(stored.keys.map((k) => env.KV.get(k.name)));
    expect(stored.keys.length).toBeGreaterThan(0);
    expect(stored.keys.some((k) => k.name.includes(key.api_key))).toBe(false);
    expect(values.some((v) => v?.includes(key.api_key))).toBe(false);

    const auth = { authorization: `Bearer ${key.api_key}` };
    expect((await api('/api/v1/billing/credits', { headers: auth })).status).toBe(200);
    expect((await api(`/internal/v1/keys/${key.key_id}`, { method: 'DELETE', headers: INTERNAL })).status).toBe(204);
    expect((await api('/api/v1/billing/credits', { headers: auth })).status).toBe(401);
    expect((await api(`/internal/v1/keys/${key.key_id}`, { method: 'DELETE', headers: INTERNAL })).status).toBe(404);
  });

  it('keeps other keys of the account working when one is revoked', async () => {
    const first = await customer();
    const second = await api(`/internal/v1/accounts/${first.accountId}/keys`, { method: 'POST', headers: INTERNAL });
    const { key_id } = await second.json<{ key_id: string }>();
    await api(`/internal/v1/keys/${key_id}`, { method: 'DELETE', headers: INTERNAL });
    expect((await api('/api/v1/billing/credits', { headers: first.auth })).status).toBe(200);
  });
});

describe('internal routes', () => {
  it.each([
    ['no token', {}],
    ['a wrong token', { authorization: 'Bearer not-the-token' }],
    ['a customer key', { authorization: `Bearer aio_${'y'.repeat(40)}` }],
  ])('answer 401 to %s', async (_name, headers) => {
    const res = await api(`/internal/v1/accounts/${newAccountId()}/keys`, { method: 'POST', headers });
    expect(res.status).toBe(401);
    expect(await errorCode(res)).toBe('unauthorized');
  });

  it('reject an account id that is not a plain identifier, naming account_id', async () => {
    const res = await api('/internal/v1/accounts/a%20b/keys', { method: 'POST', headers: INTERNAL });
    expect(res.status).toBe(400);
    expect((await res.json<{ error: { param: string } }>()).error.param).toBe('account_id');
  });
});
