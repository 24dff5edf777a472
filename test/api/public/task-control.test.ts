import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { TaskView } from '../../../src/tasks/task.schema';
import { api, balance, createTask, customer, eventually, waitForTask } from '../../helpers';
import { deliveries, receiver } from '../../receiver';

const cancel = (auth: Record<string, string>, taskId: string) => api(`/api/v1/tasks/${taskId}/cancel`, { method: 'POST', headers: auth });

async function created(auth: Record<string, string>, body: Record<string, unknown>): Promise<string> {
  const res = await createTask(auth, body);
  expect(res.status).toBe(202);
  return (await res.json<{ task_id: string }>()).task_id;
}

async function sentToProvider(prompt: string): Promise<boolean> {
  const sent = await (await fetch(`${env.SIMULATOR_URL}/__sim/requests?path=/v1/flux-2-pro`)).json<{ body: string }[]>();
  return sent.some((r) => r.body.includes(prompt));
}

describe('POST /api/v1/tasks/{task_id}/cancel', () => {
  it('cancels a task whose submits are refused and wait to be retried: canceled, refunded in full, its webhook sent', async () => {
    const { auth } = await customer(undefined, 10);
    const hook = receiver();
    const taskId = await created(auth, { model: 'flux-2', prompt: `Rate limited for ever [sim:http=429] ${crypto.randomUUID()}`, callback_url: hook.url });
    const res = await cancel(auth, taskId);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ task_id: taskId, status: 'canceled', credits: 0, output: null, error: { code: 'canceled' } });
    expect(await eventually(async () => ((await balance(auth)).reserved === 0 ? balance(auth) : undefined))).toMatchObject({ balance: 10 });
    const [delivery] = await eventually(async () => {
      const got = await deliveries(hook.name);
      return got.length > 0 ? got : undefined;
    });
    expect(JSON.parse(delivery!.body)).toMatchObject({ task_id: taskId, status: 'canceled' });
    expect((await waitForTask(auth, taskId)).status).toBe('canceled');
  });

  it('answers 409 once a provider is generating the task, and the task goes on', async () => {
    const { auth } = await customer(undefined, 10);
    const taskId = await created(auth, { model: 'flux-2', prompt: 'Already at the provider [sim:slow=1500]' });
    await eventually(async () => {
      const task = await (await api(`/api/v1/tasks/${taskId}`, { headers: auth })).json<TaskView>();
      return task.status === 'processing' ? true : undefined;
    });
    const res = await cancel(auth, taskId);
    expect(res.status).toBe(409);
    expect(await res.json()).toMatchObject({ error: { code: 'conflict' } });
    expect((await waitForTask(auth, taskId)).status).toBe('succeeded');
    expect((await cancel(auth, taskId)).status).toBe(409);
  });

  it("answers 404 for another account's task and for an unknown id", async () => {
    const owner = await customer(undefined, 10);
    const other = await customer();
    const taskId = await created(owner.auth, { model: 'flux-2', prompt: 'Mine alone [sim:http=429]' });
    expect((await cancel(other.auth, taskId)).status).toBe(404);
    expect((await cancel(owner.auth, 'task_0000000000000000000000')).status).toBe(404);
    expect((await cancel(owner.auth, taskId)).status).toBe(200);
  });

  it('never lets a submit out after a cancel was accepted, when the cancel races the first submit', async () => {
    const { auth } = await customer(undefined, 100);
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, async () => {
        const prompt = `A race ${crypto.randomUUID()}`;
        const taskId = await created(auth, { model: 'flux-2', prompt });
        const status = (await cancel(auth, taskId)).status;
        const task = await waitForTask(auth, taskId);
        return { status, final: task.status, sent: await sentToProvider(prompt) };
      }),
    );
    for (const outcome of outcomes) {
      if (outcome.status === 200) expect(outcome).toEqual({ status: 200, final: 'canceled', sent: false });
      else expect(outcome).toMatchObject({ status: 409, final: 'succeeded', sent: true });
    }
    const charged = outcomes.filter((o) => o.final === 'succeeded').length * 5;
    expect(await eventually(async () => ((await balance(auth)).reserved === 0 ? balance(auth) : undefined))).toMatchObject({
      balance: 100 - charged,
    });
  });
});

/** Reads a whole event stream: each event's name, id and task. */
async function readEvents(res: Response): Promise<{ event: string; id: number; task: TaskView }[]> {
  const text = await res.text();
  return text
    .split('\n\n')
    .filter((block) => block.includes('data:'))
    .map((block) => {
      const field = (name: string) => block.split('\n').find((line) => line.startsWith(`${name}:`))?.slice(name.length + 1).trim() ?? '';
      return { event: field('event'), id: Number(field('id')), task: JSON.parse(field('data')) as TaskView };
    });
}

describe('GET /api/v1/tasks/{task_id}/events', () => {
  it('streams the task as it is, then each change with increasing ids, and ends after the final status', async () => {
    const { auth } = await customer(undefined, 10);
    const taskId = await created(auth, { model: 'flux-2', prompt: 'Watch me work [sim:slow=800]' });
    const res = await api(`/api/v1/tasks/${taskId}/events`, { headers: auth });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const events = await readEvents(res);
    expect(events.length).toBeGreaterThanOrEqual(2);
    expect(events.every((e) => e.event === 'task' && e.task.task_id === taskId)).toBe(true);
    expect(events.map((e) => e.id)).toEqual([...events.map((e) => e.id)].sort((a, b) => a - b));
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    expect(events.map((e) => e.task.status)).toContain('processing');
    expect(events.at(-1)!.task.status).toBe('succeeded');
  });

  it('sends one event and ends for a task that is already final', async () => {
    const { auth } = await customer(undefined, 10);
    const taskId = await created(auth, { model: 'flux-2', prompt: 'Done before you looked' });
    await waitForTask(auth, taskId);
    const events = await readEvents(await api(`/api/v1/tasks/${taskId}/events`, { headers: auth }));
    expect(events.map((e) => e.task.status)).toEqual(['succeeded']);
  });

  it('resumes from Last-Event-ID without repeating what the client saw or losing a change', async () => {
    const { auth } = await customer(undefined, 10);
    const taskId = await created(auth, { model: 'flux-2', prompt: 'Resume watching me [sim:slow=800]' });
    const first = await api(`/api/v1/tasks/${taskId}/events`, { headers: auth });
    const reader = first.body!.getReader();
    const opening = new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    const lastId = Number(/id: ?(\d+)/.exec(opening)![1]);
    const resumed = await readEvents(await api(`/api/v1/tasks/${taskId}/events`, { headers: { ...auth, 'last-event-id': String(lastId) } }));
    expect(resumed.every((e) => e.id > lastId)).toBe(true);
    expect(resumed.at(-1)!.task.status).toBe('succeeded');
    const afterEnd = await readEvents(
      await api(`/api/v1/tasks/${taskId}/events`, { headers: { ...auth, 'last-event-id': String(resumed.at(-1)!.id) } }),
    );
    expect(afterEnd).toEqual([]);
  });

  it("answers 404 for another account's task", async () => {
    const owner = await customer(undefined, 10);
    const taskId = await created(owner.auth, { model: 'flux-2', prompt: 'Private progress' });
    expect((await api(`/api/v1/tasks/${taskId}/events`, { headers: (await customer()).auth })).status).toBe(404);
  });
});
