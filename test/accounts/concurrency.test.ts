import { describe, expect, it } from 'vitest';
import { api, createTask, customer, eventually, INTERNAL } from '../helpers';

interface Books {
  balance: number;
  reserved: number;
  topups: number;
  settled: number;
  refunded: number;
  open_reservations: unknown[];
  consistent: boolean;
  problems: string[];
}

async function books(accountId: string): Promise<Books> {
  return (await api(`/internal/v1/accounts/${accountId}/reconciliation`, { headers: INTERNAL })).json<Books>();
}

/** Waits until every reservation of the account has been settled or refunded. */
async function settled(accountId: string): Promise<Books> {
  return eventually(async () => {
    const b = await books(accountId);
    return b.open_reservations.length === 0 ? b : undefined;
  }, 60_000);
}

describe('credits under concurrency', () => {
  it('200 concurrent creations against credits for exactly 50: 50 tasks, 150 × 402, balance ends at zero', async () => {
    const { auth, accountId } = await customer(undefined, 250);
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, i) => createTask(auth, { model: 'flux-2', prompt: `Concurrent request number ${i}` })),
    );
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s === 202)).toHaveLength(50);
    expect(statuses.filter((s) => s === 402)).toHaveLength(150);
    const ids = await Promise.all(answers.filter((r) => r.status === 202).map(async (r) => (await r.json<{ task_id: string }>()).task_id));
    expect(new Set(ids).size).toBe(50);

    const final = await settled(accountId);
    expect(final).toMatchObject({ balance: 0, reserved: 0, topups: 250, settled: 250, refunded: 0, consistent: true });
  });

  it('a mix of failing and succeeding tasks ends at top-ups minus the successful tasks, to the credit', async () => {
    const { auth, accountId } = await customer(undefined, 100);
    const prompts = Array.from({ length: 20 }, (_, i) =>
      i % 4 === 0 ? `Will fail ${i} [sim:fail]` : i % 4 === 1 ? `Will be moderated ${i} [sim:moderate]` : `Will succeed ${i}`,
    );
    const answers = await Promise.all(prompts.map((prompt) => createTask(auth, { model: 'flux-2', prompt })));
    expect(answers.every((r) => r.status === 202)).toBe(true);
    const final = await settled(accountId);
    const successes = prompts.filter((p) => !p.includes('[sim:')).length;
    expect(final).toMatchObject({ balance: 100 - successes * 5, reserved: 0, settled: successes * 5, refunded: (20 - successes) * 5, consistent: true });
  });
});
