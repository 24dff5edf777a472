import { describe, expect, it } from 'vitest';
import { api, balance, createTask, customer, waitForTask } from '../../helpers';

async function start(auth: Record<string, string>, prompt: string): Promise<string> {
  const res = await createTask(auth, { model: 'flux-2', prompt });
  expect(res.status).toBe(202);
  return (await res.json<{ task_id: string }>()).task_id;
}

describe('GET /api/v1/tasks/{task_id}', () => {
  it('shows a running task as pending or processing, then its result', async () => {
    const { auth } = await customer(undefined, 10);
    const taskId = await start(auth, 'A slow lighthouse at dusk [sim:slow=1500]');
    const running = await (await api(`/api/v1/tasks/${taskId}`, { headers: auth })).json<{ status: string; output: unknown }>();
    expect(['pending', 'processing']).toContain(running.status);
    expect(running.output).toBeNull();
    expect(await balance(auth)).toMatchObject({ balance: 5, reserved: 5 });
    const done = await waitForTask(auth, taskId);
    expect(done.status).toBe('succeeded');
    expect(await balance(auth)).toMatchObject({ balance: 5, reserved: 0 });
  });

  it('answers 404 to another account, never 403', async () => {
    const owner = await customer(undefined, 10);
    const stranger = await customer(undefined, 10);
    const taskId = await start(owner.auth, 'A private painting of a fox');
    const res = await api(`/api/v1/tasks/${taskId}`, { headers: stranger.auth });
    expect(res.status).toBe(404);
    expect((await res.json<{ error: { code: string } }>()).error.code).toBe('not_found');
    // Still 404 once the task is finished and served from the KV snapshot.
    await waitForTask(owner.auth, taskId);
    expect((await api(`/api/v1/tasks/${taskId}`, { headers: stranger.auth })).status).toBe(404);
  });

  it.each(['task_doesnotexist000000000', 'task_AAAAAAAAAAAAAAAAAAAAAA', '../etc/passwd'])('answers 404 for %s', async (id) => {
    const { auth } = await customer();
    const res = await api(`/api/v1/tasks/${encodeURIComponent(id)}`, { headers: auth });
    expect(res.status).toBe(404);
  });
});

describe('provider outcomes', () => {
  it.each([
    ['a provider error', 'A broken render [sim:fail]', 'provider_error'],
    ['input moderation', 'Something the filter dislikes [sim:moderate]', 'content_moderated'],
    ['output moderation', 'An output the filter flags [sim:moderate-output]', 'content_moderated'],
    ['a provider out of credit (not blamed on the customer)', 'Our provider account is empty [sim:nocredit]', 'provider_unavailable'],
    ['a provider that keeps failing', 'A provider that is down [sim:http=503]', 'provider_unavailable'],
  ])('%s ends the task failed and gives the credits back', async (_case, prompt, code) => {
    const { auth } = await customer(undefined, 10);
    const task = await waitForTask(auth, await start(auth, prompt));
    expect(task).toMatchObject({ status: 'failed', output: null, credits: 0, error: { code } });
    expect(await balance(auth)).toMatchObject({ balance: 10, reserved: 0 });
  });

  it('transient provider errors are retried and the task still succeeds', async () => {
    const { auth } = await customer(undefined, 10);
    const task = await waitForTask(auth, await start(auth, `A flaky day ${crypto.randomUUID()} [sim:http=503x2]`));
    expect(task.status).toBe('succeeded');
    expect(await balance(auth)).toMatchObject({ balance: 5, reserved: 0 });
  });

  it('provider rate limits are waited out and the task still succeeds', async () => {
    const { auth } = await customer(undefined, 10);
    const task = await waitForTask(auth, await start(auth, `A busy provider ${crypto.randomUUID()} [sim:http=429x3]`));
    expect(task.status).toBe('succeeded');
  });

  it('a hanging provider ends failed with timeout at the deadline, refunded', async () => {
    const { auth } = await customer(undefined, 10);
    const task = await waitForTask(auth, await start(auth, 'A job that never ends [sim:hang]'));
    expect(task).toMatchObject({ status: 'failed', credits: 0, error: { code: 'timeout' } });
    const took = Date.parse(task.completed_at!) - Date.parse(task.created_at);
    expect(took).toBeGreaterThanOrEqual(6_000);
    expect(await balance(auth)).toMatchObject({ balance: 10, reserved: 0 });
  });
});
