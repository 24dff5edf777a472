import { describe, expect, it } from 'vitest';
import { api, balance, createTask, customer, INTERNAL, waitForTask } from '../helpers';

describe('tasks hit by transient provider errors', () => {
  it('every task ends and its reservation is returned or charged, after two 503s each', async () => {
    const { auth, accountId } = await customer(undefined, 150);
    const ids = await Promise.all(
      Array.from({ length: 30 }, async (_, i) => {
        const res = await createTask(auth, { model: 'flux-2', prompt: `x [sim:http=503x2] ${crypto.randomUUID()} ${i}` });
        expect(res.status).toBe(202);
        return (await res.json<{ task_id: string }>()).task_id;
      }),
    );
    const tasks = await Promise.all(ids.map((id) => waitForTask(auth, id)));
    expect(tasks.map((t) => t.status)).toEqual(Array(30).fill('succeeded'));
    const { reserved } = await balance(auth);
    expect(reserved).toBe(0);
    const books = await (await api(`/internal/v1/accounts/${accountId}/reconciliation`, { headers: INTERNAL })).json();
    expect(books).toMatchObject({ consistent: true, problems: [] });
  });
});
