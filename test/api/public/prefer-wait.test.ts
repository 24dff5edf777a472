import { describe, expect, it } from 'vitest';
import type { TaskView } from '../../../src/tasks/task.schema';
import { api, customer } from '../../helpers';

const create = (auth: Record<string, string>, body: Record<string, unknown>, prefer?: string) =>
  api('/api/v1/images/generations', { method: 'POST', headers: { ...auth, ...(prefer ? { prefer } : {}) }, json: body });

describe('POST /api/v1/images/generations with Prefer: wait', () => {
  it('answers 200 with the whole task when it ends within the wait', async () => {
    const { auth } = await customer(undefined, 10);
    const res = await create(auth, { model: 'flux-2', prompt: 'Quick enough to wait for' }, 'wait=20');
    expect(res.status).toBe(200);
    expect(res.headers.get('preference-applied')).toBe('wait=20');
    const task = await res.json<TaskView>();
    expect(task).toMatchObject({ status: 'succeeded', credits: 5, error: null });
    expect(task.output!.images).toHaveLength(1);
    expect(await (await api(`/api/v1/tasks/${task.task_id}`, { headers: auth })).json()).toMatchObject({ status: 'succeeded' });
  });

  it('answers 200 for a task that failed within the wait, refunded', async () => {
    const { auth } = await customer(undefined, 10);
    const res = await create(auth, { model: 'flux-2', prompt: 'Doomed [sim:fail]' }, 'wait=20');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'failed', credits: 0 });
  });

  it('answers 202 with the whole task as it is when the wait runs out, and the task goes on', async () => {
    const { auth } = await customer(undefined, 10);
    const started = Date.now();
    const res = await create(auth, { model: 'flux-2', prompt: 'Slower than the wait [sim:slow=4000]' }, 'wait=1');
    expect(Date.now() - started).toBeLessThan(3500);
    expect(res.status).toBe(202);
    expect(res.headers.get('preference-applied')).toBe('wait=1');
    const task = await res.json<TaskView>();
    expect(task).toMatchObject({ status: 'processing', output: null, input: { prompt: 'Slower than the wait [sim:slow=4000]' } });
  });

  it('takes a wait above 60 as 60, and ignores a wait it cannot use', async () => {
    const { auth } = await customer(undefined, 20);
    const long = await create(auth, { model: 'flux-2', prompt: 'Asked to wait too long' }, 'wait=600');
    expect(long.headers.get('preference-applied')).toBe('wait=60');
    const ignored = await create(auth, { model: 'flux-2', prompt: 'Asked to wait oddly' }, 'wait=soon');
    expect(ignored.status).toBe(202);
    expect(ignored.headers.get('preference-applied')).toBeNull();
    expect(Object.keys(await ignored.json<object>()).sort()).toEqual(['created_at', 'credits', 'model', 'status', 'task_id']);
  });

  it('replays the waited answer for the same Idempotency-Key', async () => {
    const { auth } = await customer(undefined, 10);
    const body = { model: 'flux-2', prompt: 'Waited once, replayed after' };
    const first = await create({ ...auth, 'idempotency-key': 'wait-replay-1' }, body, 'wait=20');
    const again = await create({ ...auth, 'idempotency-key': 'wait-replay-1' }, body, 'wait=20');
    expect(first.status).toBe(200);
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await again.text()).toBe(await first.text());
  });
});
