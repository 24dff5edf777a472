import { describe, expect, it } from 'vitest';
import { api, createTask, customer, INTERNAL, newAccountId, topUp, waitForTask } from '../helpers';

interface Credits {
  account_id: string;
  balance: number;
  reserved: number;
  ledger: { id: string; kind: string; amount: number; task_id?: string; reference?: string; balance_after: number }[];
  next_cursor: string | null;
}

describe('top-ups (POST /internal/v1/accounts/{account_id}/credits)', () => {
  it('adds credits and answers with the new balance', async () => {
    const accountId = newAccountId();
    const res = await topUp(accountId, 120, 'order-1');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ account_id: accountId, balance: 120 });
  });

  it('adds a reference once, answering a repeat as the first time', async () => {
    const accountId = newAccountId();
    await topUp(accountId, 50, 'order-a');
    const first = await (await topUp(accountId, 30, 'order-b')).json();
    const again = await topUp(accountId, 30, 'order-b');
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual(first);
    const credits = await (await api(`/internal/v1/accounts/${accountId}/credits`, { headers: INTERNAL })).json<Credits>();
    expect(credits.balance).toBe(80);
    expect(credits.ledger.filter((e) => e.reference === 'order-b')).toHaveLength(1);
  });

  it('adds once when the same reference arrives many times at once', async () => {
    const accountId = newAccountId();
    const answers = await Promise.all(Array.from({ length: 20 }, () => topUp(accountId, 10, 'order-race')));
    expect(answers.every((r) => r.status === 200)).toBe(true);
    const credits = await (await api(`/internal/v1/accounts/${accountId}/credits`, { headers: INTERNAL })).json<Credits>();
    expect(credits.balance).toBe(10);
  });

  it('refuses a known reference with a different amount as a conflict', async () => {
    const accountId = newAccountId();
    await topUp(accountId, 10, 'order-x');
    const res = await topUp(accountId, 11, 'order-x');
    expect(res.status).toBe(409);
    expect((await res.json<{ error: { code: string; param: string } }>()).error).toMatchObject({ code: 'conflict', param: 'reference' });
  });

  it.each([
    [{ amount: 0, reference: 'r' }, 'amount'],
    [{ amount: -5, reference: 'r' }, 'amount'],
    [{ amount: 1.5, reference: 'r' }, 'amount'],
    [{ amount: '10', reference: 'r' }, 'amount'],
    [{ reference: 'r' }, 'amount'],
    [{ amount: 10 }, 'reference'],
    [{ amount: 10, reference: '' }, 'reference'],
    [{ amount: 10, reference: 'r', note: 'hi' }, 'note'],
  ])('rejects %o naming %s', async (body, field) => {
    const accountId = newAccountId();
    const res = await api(`/internal/v1/accounts/${accountId}/credits`, { method: 'POST', headers: INTERNAL, json: body });
    expect(res.status).toBe(400);
    expect((await res.json<{ error: { param: string } }>()).error.param).toBe(field);
    const credits = await (await api(`/internal/v1/accounts/${accountId}/credits`, { headers: INTERNAL })).json<Credits>();
    expect(credits).toMatchObject({ balance: 0, ledger: [] });
  });

  it('requires the internal token', async () => {
    const res = await api(`/internal/v1/accounts/${newAccountId()}/credits`, { method: 'POST', json: { amount: 5, reference: 'r' } });
    expect(res.status).toBe(401);
  });
});

describe('GET /api/v1/billing/credits', () => {
  it('shows balance, reserved credits and the ledger of a task that succeeded', async () => {
    const { auth, accountId } = await customer(undefined, 20);
    const created = await (await createTask(auth, { model: 'flux-2', prompt: 'A ledger-worthy sunrise' })).json<{ task_id: string }>();
    await waitForTask(auth, created.task_id);
    const credits = await (await api('/api/v1/billing/credits', { headers: auth })).json<Credits>();
    expect(credits).toMatchObject({ account_id: accountId, balance: 15, reserved: 0 });
    expect(credits.ledger.map((e) => [e.kind, e.amount, e.task_id ?? null])).toEqual([
      ['settle', 5, created.task_id],
      ['reserve', 5, created.task_id],
      ['topup', 20, null],
    ]);
  });

  it('pages through the ledger newest first with next_cursor', async () => {
    const accountId = newAccountId();
    for (let i = 1; i <= 5; i++) await topUp(accountId, i, `page-${i}`);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `?limit=2&cursor=${cursor}` : '?limit=2';
      const page: Credits = await (await api(`/internal/v1/accounts/${accountId}/credits${query}`, { headers: INTERNAL })).json<Credits>();
      expect(page.ledger.length).toBeLessThanOrEqual(2);
      seen.push(...page.ledger.map((e) => e.reference!));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toEqual(['page-5', 'page-4', 'page-3', 'page-2', 'page-1']);
  });

  it.each(['limit=0', 'limit=201', 'limit=abc', 'cursor=xyz'])('rejects %s naming the parameter', async (query) => {
    const { auth } = await customer();
    const res = await api(`/api/v1/billing/credits?${query}`, { headers: auth });
    expect(res.status).toBe(400);
    expect((await res.json<{ error: { param: string } }>()).error.param).toBe(query.split('=')[0]);
  });
});
