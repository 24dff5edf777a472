import { describe, expect, it } from 'vitest';
import { api, customer, INTERNAL, newAccountId } from '../helpers';

type ErrorBody = { error: { code: string; message: string } };
const EMPTY_JSON = { 'content-type': 'application/json' };

/** Every route that takes a JSON body, with the headers it needs besides the content type. */
async function bodyRoutes(): Promise<[string, string, Record<string, string>][]> {
  const { auth } = await customer(undefined, 100);
  return [
    ['POST /api/v1/images/generations', '/api/v1/images/generations', auth],
    ['POST /internal/v1/accounts/{account_id}/credits', `/internal/v1/accounts/${newAccountId()}/credits`, INTERNAL],
  ];
}

describe('an empty body sent as application/json', () => {
  it('is 400 invalid_json on every route whose body is required', async () => {
    for (const [route, path, headers] of await bodyRoutes()) {
      for (const body of ['', undefined]) {
        const res = await api(path, { method: 'POST', headers: { ...headers, ...EMPTY_JSON }, body });
        expect([route, res.status]).toEqual([route, 400]);
        const { error } = await res.json<ErrorBody>();
        expect(error).toMatchObject({ code: 'invalid_json', message: 'Request body is empty; send a JSON object.' });
      }
    }
  });

  it('is no body where the body is optional: the webhook secret rotates with the default grace period', async () => {
    const path = `/internal/v1/accounts/${newAccountId()}/webhook-secret`;
    const first = await api(path, { method: 'POST', headers: INTERNAL });
    expect(first.status).toBe(200);
    const before = Date.now();
    const res = await api(path, { method: 'POST', headers: { ...INTERNAL, ...EMPTY_JSON }, body: '' });
    expect(res.status).toBe(200);
    const rotated = await res.json<{ previous: { expires_at: string }[] }>();
    const graceMs = Date.parse(rotated.previous[0]!.expires_at) - before;
    expect(graceMs).toBeGreaterThan(24 * 3600_000 - 60_000);
    expect(graceMs).toBeLessThan(24 * 3600_000 + 60_000);
  });

  it('is still invalid_json when it is only whitespace, on the optional-body route too', async () => {
    const res = await api(`/internal/v1/accounts/${newAccountId()}/webhook-secret`, {
      method: 'POST',
      headers: { ...INTERNAL, ...EMPTY_JSON },
      body: '  ',
    });
    expect(res.status).toBe(400);
    expect((await res.json<ErrorBody>()).error.code).toBe('invalid_json');
  });

  it('does not bother routes that take no body', async () => {
    const res = await api(`/internal/v1/accounts/${newAccountId()}/keys`, { method: 'POST', headers: { ...INTERNAL, ...EMPTY_JSON }, body: '' });
    expect(res.status).toBe(201);
  });

  it('a stray body of any kind is ignored where the route takes none, and authentication comes first', async () => {
    const minted = await api(`/internal/v1/accounts/${newAccountId()}/keys`, {
      method: 'POST',
      headers: { ...INTERNAL, 'content-type': 'text/plain' },
      body: 'hello',
    });
    expect(minted.status).toBe(201);
    const unauthenticated = await api('/api/v1/tasks/task_0000000000000000000000/cancel', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{not json',
    });
    expect(unauthenticated.status).toBe(401);
  });
});

describe('an empty body sent with another content type', () => {
  it('is 415 unsupported_media_type, not a 500', async () => {
    for (const [route, path, headers] of await bodyRoutes()) {
      const res = await api(path, { method: 'POST', headers: { ...headers, 'content-type': 'text/plain' }, body: '' });
      expect([route, res.status]).toEqual([route, 415]);
      expect((await res.json<ErrorBody>()).error.code).toBe('unsupported_media_type');
    }
  });
});
