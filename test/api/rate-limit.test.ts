import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import wranglerToml from '../../wrangler.toml?raw';
import { ADDRESS_WINDOW_SECONDS, addressKey } from '../../src/api/rate-limit';
import { api, customer, INTERNAL, newAccountId } from '../helpers';

/**
 * Issue 14, item 3 (contract, "Operating"): a token bucket per account on every customer route, set by
 * the BFF; a limit per client address on the routes without credentials. The bucket's refill over time
 * is tested on its own clock in test/accounts/rate-limit.test.ts.
 */

const DEFAULT = Number(env.RATE_LIMIT_REQUESTS_PER_MINUTE);

const limitsPath = (accountId: string) => `/internal/v1/accounts/${accountId}/limits`;

async function setLimit(accountId: string, body: unknown): Promise<Response> {
  return api(limitsPath(accountId), { method: 'PUT', headers: INTERNAL, json: body });
}

/** `"account";r=4;t=12` → { r: 4, t: 12 } */
function fields(header: string | null): Record<string, number> {
  const [, ...params] = (header ?? '').split(';');
  return Object.fromEntries(params.map((p) => p.split('=')).map(([k, v]) => [k!, Number(v)]));
}

const credits = (auth: Record<string, string>) => api('/api/v1/billing/credits', { headers: auth });

describe('an account’s rate limit', () => {
  it('starts at the default, which every customer answer announces', async () => {
    const { accountId, auth } = await customer();
    const limits = await api(limitsPath(accountId), { headers: INTERNAL });
    expect(limits.status).toBe(200);
    expect(await limits.json()).toEqual({ account_id: accountId, requests_per_minute: DEFAULT, is_default: true });
    const res = await credits(auth);
    expect(res.status).toBe(200);
    expect(res.headers.get('ratelimit-policy')).toBe(`"account";q=${DEFAULT};w=60`);
    expect(res.headers.get('ratelimit')).toMatch(/^"account";r=\d+;t=\d+$/);
    expect(fields(res.headers.get('ratelimit')).r).toBe(DEFAULT - 1);
  });

  it('counts down with each request, then answers 429 rate_limited with Retry-After', async () => {
    const { accountId, auth } = await customer();
    const set = await setLimit(accountId, { requests_per_minute: 5 });
    expect(set.status).toBe(200);
    expect(await set.json()).toEqual({ account_id: accountId, requests_per_minute: 5, is_default: false });

    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await credits(auth));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 429]);
    expect(answers.map((r) => fields(r.headers.get('ratelimit')).r)).toEqual([4, 3, 2, 1, 0, 0]);
    for (const r of answers) expect(r.headers.get('ratelimit-policy')).toBe('"account";q=5;w=60');

    const refused = answers[5]!;
    const retryAfter = Number(refused.headers.get('retry-after'));
    // 5 a minute is one request every 12 s; the first of the five went out moments ago.
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(12);
    expect(fields(refused.headers.get('ratelimit')).t).toBe(retryAfter);
    const body = await refused.json<{ error: Record<string, unknown> }>();
    expect(body.error).toMatchObject({ code: 'rate_limited', type: 'rate_limit_error', request_id: refused.headers.get('x-request-id') });
  });

  it('holds on every customer route, and its answers carry the fields whatever their status', async () => {
    const { accountId, auth } = await customer();
    await setLimit(accountId, { requests_per_minute: 2 });
    const missing = await api('/api/v1/tasks/task_0000000000000000000000', { headers: auth });
    expect(missing.status).toBe(404);
    expect(fields(missing.headers.get('ratelimit')).r).toBe(1);
    const invalid = await api('/api/v1/images/generations', { method: 'POST', headers: auth, json: { model: 'flux-2' } });
    expect(invalid.status).toBe(400);
    expect(fields(invalid.headers.get('ratelimit')).r).toBe(0);
    const list = await api('/api/v1/tasks', { headers: auth });
    expect(list.status).toBe(429);
  });

  it('is the account’s own: one account throttled, another not', async () => {
    const throttled = await customer();
    const other = await customer();
    await setLimit(throttled.accountId, { requests_per_minute: 1 });
    expect((await credits(throttled.auth)).status).toBe(200);
    expect((await credits(throttled.auth)).status).toBe(429);
    const res = await credits(other.auth);
    expect(res.status).toBe(200);
    expect(fields(res.headers.get('ratelimit')).r).toBe(DEFAULT - 1);
  });

  it('is shared by all of the account’s keys', async () => {
    const { accountId, auth } = await customer();
    const second = await customer(accountId);
    await setLimit(accountId, { requests_per_minute: 1 });
    expect((await credits(auth)).status).toBe(200);
    expect((await credits(second.auth)).status).toBe(429);
  });

  it('takes a limit the BFF raises at once, with the difference to spend right away', async () => {
    const { accountId, auth } = await customer();
    await setLimit(accountId, { requests_per_minute: 1 });
    await credits(auth);
    expect((await credits(auth)).status).toBe(429);
    expect((await setLimit(accountId, { requests_per_minute: 3 })).status).toBe(200);
    const res = await credits(auth);
    expect(res.status).toBe(200);
    expect(res.headers.get('ratelimit-policy')).toBe('"account";q=3;w=60');
    expect(await (await api(limitsPath(accountId), { headers: INTERNAL })).json()).toEqual({
      account_id: accountId,
      requests_per_minute: 3,
      is_default: false,
    });
  });

  it('holds with tokens lent to the isolate: never more than the limit and its refill, each answer one fewer', async () => {
    const { accountId, auth } = await customer();
    // 200 a minute: the account's object lends two tokens a call; it refills one every 300 ms.
    await setLimit(accountId, { requests_per_minute: 200 });
    const started = Date.now();
    const answers: Response[] = [];
    while (answers.length < 1_000 && answers.at(-1)?.status !== 429) {
      answers.push(await api('/api/v1/tasks/task_0000000000000000000000', { headers: auth }));
    }
    const seconds = (Date.now() - started) / 1000;
    expect(answers.at(-1)!.status).toBe(429);
    const allowed = answers.filter((r) => r.status === 404).length;
    expect(allowed).toBe(answers.length - 1);
    expect(allowed).toBeLessThanOrEqual(200 + Math.ceil(seconds / 0.3));
    // Tokens a lease held past its second are lost, never given twice: a few at most here.
    expect(allowed).toBeGreaterThanOrEqual(150);
    // The first call took two tokens: the answers to it and to the request served from the lease.
    expect(answers.slice(0, 2).map((r) => fields(r.headers.get('ratelimit')).r)).toEqual([199, 198]);
  });

  it('applies a limit the BFF lowers at once, even where the isolate holds lent tokens', async () => {
    const { accountId, auth } = await customer();
    await setLimit(accountId, { requests_per_minute: 600 });
    expect(fields((await credits(auth)).headers.get('ratelimit')).r).toBe(599);
    await setLimit(accountId, { requests_per_minute: 1 });
    const last = await credits(auth);
    expect(last.status).toBe(200);
    expect(last.headers.get('ratelimit-policy')).toBe('"account";q=1;w=60');
    expect((await credits(auth)).status).toBe(429);
  });

  it('does not count refused credentials against anyone’s account', async () => {
    const res = await credits({ authorization: `Bearer aio_${'x'.repeat(32)}` });
    expect(res.status).toBe(401);
    expect(res.headers.get('ratelimit')).toBeNull();
  });
});

describe('PUT /internal/v1/accounts/{account_id}/limits', () => {
  it.each([
    [{}, 'requests_per_minute'],
    [{ requests_per_minute: 0 }, 'requests_per_minute'],
    [{ requests_per_minute: -5 }, 'requests_per_minute'],
    [{ requests_per_minute: 1.5 }, 'requests_per_minute'],
    [{ requests_per_minute: '60' }, 'requests_per_minute'],
    [{ requests_per_minute: null }, 'requests_per_minute'],
    [{ requests_per_minute: 1_000_001 }, 'requests_per_minute'],
    [{ requests_per_minute: 60, burst: 10 }, 'burst'],
    [[60], ''],
  ])('refuses %j with 400 naming the field, and changes nothing', async (body, field) => {
    const accountId = newAccountId();
    const res = await setLimit(accountId, body);
    expect(res.status).toBe(400);
    const { error } = await res.json<{ error: { code: string; param: string | null; details: { path: string }[] } }>();
    expect(error.code).toBe('invalid_request');
    expect(error.details.map((d) => d.path)).toContain(field);
    expect(await (await api(limitsPath(accountId), { headers: INTERNAL })).json()).toMatchObject({ is_default: true });
  });

  it('refuses a body that is not JSON, and a bad account id', async () => {
    const notJson = await api(limitsPath(newAccountId()), { method: 'PUT', headers: { ...INTERNAL, 'content-type': 'application/json' }, body: '{"requests' });
    expect(notJson.status).toBe(400);
    expect((await notJson.json<{ error: { code: string } }>()).error.code).toBe('invalid_json');
    const badId = await setLimit('no spaces here', { requests_per_minute: 10 });
    expect(badId.status).toBe(400);
    expect((await badId.json<{ error: { param: string } }>()).error.param).toBe('account_id');
  });

  it('takes the internal token only', async () => {
    const { accountId, auth } = await customer();
    expect((await api(limitsPath(accountId), { method: 'PUT', headers: auth, json: { requests_per_minute: 10 } })).status).toBe(401);
    expect((await api(limitsPath(accountId), { headers: auth })).status).toBe(401);
    expect(await (await api(limitsPath(accountId), { headers: INTERNAL })).json()).toMatchObject({ is_default: true });
  });
});

describe('the limit per client address', () => {
  const address = () => `198.51.100.${Math.floor(Math.random() * 250) + 1}`;

  it('keeps wrangler.toml’s [[ratelimits]] period and Retry-After the same', () => {
    const binding = /\[\[ratelimits\]\][^[]*?name = "ADDRESS_RATE_LIMITER"[^[]*?simple = \{ limit = (\d+), period = (\d+) \}/.exec(wranglerToml);
    expect(Number(binding?.[2])).toBe(ADDRESS_WINDOW_SECONDS);
  });

  it('counts an IPv6 client by its /64, an IPv4 one by its address', () => {
    expect(addressKey('203.0.113.7')).toBe('203.0.113.7');
    expect(addressKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(addressKey('2001:db8:85a3:8d3:1319:8a2e:370:7348')).toBe('2001:db8:85a3:8d3::/64');
    expect(addressKey('2001:db8:85a3:8d3::1')).toBe(addressKey('2001:0db8:85a3:08d3:ffff::9'));
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
  });

  it('answers 429 with Retry-After past the limit on routes without credentials; other addresses go on', async () => {
    // The local binding counts in fixed windows of `period` seconds: start early in one, so the run fits in it.
    const limit = Number(env.TEST_ADDRESS_LIMIT);
    const windowMs = ADDRESS_WINDOW_SECONDS * 1000;
    if (Date.now() % windowMs > windowMs / 2) await new Promise((r) => setTimeout(r, windowMs - (Date.now() % windowMs)));
    const ip = address();
    const from = (addr: string) => ({ 'cf-connecting-ip': addr });
    let allowed = 0;
    let refused: Response | undefined;
    while (!refused && allowed <= 2 * limit) {
      const res = await api('/healthz', { headers: from(ip) });
      if (res.status === 200) allowed++;
      else refused = res;
    }
    expect(allowed).toBeGreaterThanOrEqual(limit);
    expect(refused?.status).toBe(429);
    expect(refused?.headers.get('retry-after')).toBe(String(ADDRESS_WINDOW_SECONDS));
    expect(refused?.headers.get('ratelimit')).toBe(`"address";r=0;t=${ADDRESS_WINDOW_SECONDS}`);
    expect((await refused!.json<{ error: { code: string } }>()).error.code).toBe('rate_limited');

    // The same address: the catalog too, and a customer route presented a bad key.
    expect((await api('/api/v1/models', { headers: from(ip) })).status).toBe(429);
    expect((await credits({ ...from(ip), authorization: 'Bearer wrong' })).status).toBe(429);
    // A customer with a good key from that address is counted by its account alone.
    const { auth } = await customer();
    expect((await credits({ ...from(ip), ...auth })).status).toBe(200);
    // Another address, and a request without one (no Cloudflare edge in front), go on.
    expect((await api('/healthz', { headers: from('203.0.113.99') })).status).toBe(200);
    expect((await api('/healthz')).status).toBe(200);
  });
});

describe('the OpenAPI document', () => {
  interface Operation {
    operationId?: string;
    responses: Record<string, { headers?: Record<string, unknown> }>;
  }

  it('documents 429 with Retry-After on every route outside /internal, and the fields on customer answers', async () => {
    const doc = await (await api('/openapi.json')).json<{ paths: Record<string, Record<string, Operation>> }>();
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        if (path.startsWith('/internal/')) continue;
        expect([method, path, Object.keys(operation.responses['429']?.headers ?? {})]).toEqual([
          method,
          path,
          expect.arrayContaining(['Retry-After', 'RateLimit']),
        ]);
      }
    }
    expect(Object.keys(doc.paths['/api/v1/billing/credits']!.get!.responses['200']!.headers ?? {})).toEqual(
      expect.arrayContaining(['RateLimit', 'RateLimit-Policy']),
    );
  });

  it('has the BFF’s limits routes, by their operation ids', async () => {
    const res = await api('/openapi.json');
    const text = await res.text();
    // Wherever the internal routes are published (the public document, or their own), they are declared.
    const internalDoc = text.includes('setAccountLimits') ? text : await (await api('/internal/openapi.json', { headers: INTERNAL })).text();
    expect(internalDoc).toContain('"setAccountLimits"');
    expect(internalDoc).toContain('"getAccountLimits"');
  });
});
