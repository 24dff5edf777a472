import { describe, expect, it } from 'vitest';
import { api, customer, INTERNAL, topUp } from '../helpers';

type ErrorBody = { error: { code: string; param: string | null; message: string } };

describe('integers in query strings are decimal digits only', () => {
  it.each(['0x10', '1e1', '16.0', '+16', '-1', ' 16', '0b10', '', 'Infinity'])('limit=%j is 400 naming limit, on both ledger routes', async (value) => {
    const { accountId, auth } = await customer(undefined, 1);
    for (const [path, headers] of [
      ['/api/v1/billing/credits', auth],
      [`/internal/v1/accounts/${accountId}/credits`, INTERNAL],
    ] as const) {
      const res = await api(`${path}?limit=${encodeURIComponent(value)}`, { headers });
      expect([path, res.status]).toEqual([path, 400]);
      const { error } = await res.json<ErrorBody>();
      expect(error).toMatchObject({ code: 'invalid_request', param: 'limit' });
    }
  });

  it('reads limit=16 (and 016) as 16, and no limit as 50', async () => {
    const { accountId, auth } = await customer(undefined, 1);
    for (let i = 0; i < 17; i++) await topUp(accountId, 1);
    const page = async (query: string) =>
      (await (await api(`/api/v1/billing/credits${query}`, { headers: auth })).json<{ ledger: unknown[] }>()).ledger.length;
    expect(await page('?limit=16')).toBe(16);
    expect(await page('?limit=016')).toBe(16);
    expect(await page('')).toBe(18);
  });
});
