import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { CALLBACKS_PREFIX } from '../../../src/tasks/job-watch';
import { alarmAt } from '../../../src/tasks/task-due';
import { taskStub } from '../../../src/tasks/task.do';
import type { TaskRecord } from '../../../src/tasks/task-record';
import type { TaskView } from '../../../src/tasks/task.schema';
import { api, createTask, customer, eventually, ORIGIN, waitForTask } from '../../helpers';
import { uniquePrompt } from '../../simulator-fixtures';

/**
 * Provider callbacks (src/api/callbacks/): BFL and WaveSpeed jobs are submitted with a callback URL
 * on this Worker carrying a per-job token. The simulator sends each provider's callback as the
 * provider does, to that URL; it cannot reach the Worker under test (`http://gateway.test`), so the
 * tests take the request it sent from its job list and replay it to the Worker unchanged.
 */

interface SimJob {
  id: string;
  ready_at: number | null;
  polls: number;
  callback: {
    url: string;
    state: 'scheduled' | 'dropped' | 'sent' | 'failed';
    sent_at: number | null;
    request: { headers: Record<string, string>; body: string } | null;
  } | null;
}

/** The simulator's job whose callback URL names `taskId`, once `ready` says it is far enough along. */
async function jobOf(taskId: string, ready: (job: SimJob) => boolean = () => true): Promise<SimJob> {
  return eventually(async () => {
    const res = await fetch(`${env.SIMULATOR_URL}/__sim/jobs?callback=${taskId}`);
    const { jobs } = await res.json<{ jobs: SimJob[] }>();
    return jobs.find(ready);
  }, 10_000);
}

/** The callback request the simulator sent for `taskId`'s job (waiting until it went out). */
async function sentCallback(taskId: string): Promise<{ path: string; headers: Record<string, string>; body: string }> {
  const job = await jobOf(taskId, (j) => j.callback?.request != null);
  const url = new URL(job.callback!.url);
  return { path: url.pathname, ...job.callback!.request! };
}

const replay = (callback: { path: string; headers: Record<string, string>; body: string }, path = callback.path) =>
  api(path, { method: 'POST', headers: callback.headers, body: callback.body });

async function storedRecord(taskId: string): Promise<TaskRecord> {
  return runInDurableObject(taskStub(env, taskId), async (_instance, state) => (await state.storage.get<TaskRecord>('task'))!);
}

/**
 * Puts the task's next poll an hour away, as a sparse schedule would, and keeps it there: an alarm
 * run in flight may save over it once, so it is set again until it holds.
 */
async function pollInAnHour(taskId: string): Promise<void> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const far = Date.now() + 3_600_000;
    await runInDurableObject(taskStub(env, taskId), async (_instance, state) => {
      const record = (await state.storage.get<TaskRecord>('task'))!;
      const sparse = { ...record, run: { ...record.run, next_at: far } };
      await state.storage.put('task', sparse);
      await state.storage.setAlarm(alarmAt(sparse, Date.now())!);
    });
    await new Promise((resolve) => setTimeout(resolve, 150));
    if ((await storedRecord(taskId)).run.next_at === far) return;
  }
  throw new Error('the task kept its poll schedule');
}

async function processingTask(auth: Record<string, string>, body: Record<string, unknown>): Promise<string> {
  const res = await createTask(auth, body);
  expect(res.status).toBe(202);
  const { task_id } = await res.json<{ task_id: string }>();
  await eventually(async () => {
    const task = await (await api(`/api/v1/tasks/${task_id}`, { headers: auth })).json<TaskView>();
    return task.status === 'processing' ? task : undefined;
  });
  return task_id;
}

describe('provider callbacks', () => {
  it('submits a BFL job with a callback URL on this Worker: its own path, the task id and a long random token', async () => {
    const { auth } = await customer(undefined, 100);
    const taskId = await processingTask(auth, { model: 'flux-2', prompt: uniquePrompt('a fox [sim:hang]') });
    const job = await jobOf(taskId);
    expect(job.callback!.url).toMatch(new RegExp(`^${ORIGIN}${CALLBACKS_PREFIX}/bfl/${taskId}/[0-9A-Za-z]{43}$`));
    // Only a hash of the token is kept.
    const token = job.callback!.url.split('/').at(-1)!;
    expect(JSON.stringify(await storedRecord(taskId))).not.toContain(token);
  });

  it('a valid callback makes the task final at once, without waiting for the next scheduled poll', async () => {
    const { auth } = await customer(undefined, 100);
    const taskId = await processingTask(auth, { model: 'flux-2', prompt: uniquePrompt('a heron [sim:slow=2500]') });
    await pollInAnHour(taskId);
    const callback = await sentCallback(taskId);
    expect(JSON.parse(callback.body)).toMatchObject({ status: 'Ready' });

    const answered = await replay(callback);
    expect(answered.status).toBe(200);
    // The deadline is 6 s away and the next poll an hour: only the callback can have made the task final.
    const task = await waitForTask(auth, taskId, 5_000);
    expect(task.status).toBe('succeeded');
    expect((await storedRecord(taskId)).run.callback_polls).toBe(1);
  });

  it('a WaveSpeed job gets its callback URL as ?webhook=, and its signed callback works the same', async () => {
    const { auth } = await customer(undefined, 100);
    const taskId = await processingTask(auth, { model: 'cogview-4', prompt: uniquePrompt('a lantern [sim:slow=2500]') });
    await pollInAnHour(taskId);
    const callback = await sentCallback(taskId);
    expect(callback.headers).toMatchObject({ 'webhook-id': expect.any(String), 'webhook-signature': expect.stringMatching(/^v3,[0-9a-f]{64}$/) });
    expect((await replay(callback)).status).toBe(200);
    expect((await waitForTask(auth, taskId, 5_000)).status).toBe('succeeded');
  });

  it('refuses a forged callback with 404 and changes nothing: a wrong token, another task’s token, a malformed path', async () => {
    const { auth } = await customer(undefined, 100);
    const [first, second] = await Promise.all([
      processingTask(auth, { model: 'flux-2', prompt: uniquePrompt('a wren [sim:hang]') }),
      processingTask(auth, { model: 'flux-2', prompt: uniquePrompt('a crow [sim:hang]') }),
    ]);
    const otherToken = (await jobOf(second)).callback!.url.split('/').at(-1)!;
    const base = `${CALLBACKS_PREFIX}/bfl/${first}`;
    const forged = [
      `${base}/${'x'.repeat(43)}`,
      `${base}/${otherToken}`,
      `${CALLBACKS_PREFIX}/wavespeed/${first}/${otherToken}`,
      `${CALLBACKS_PREFIX}/openai/${first}/${otherToken}`,
      `${base}/short`,
      `${CALLBACKS_PREFIX}/bfl/task_nope/${otherToken}`,
    ];
    for (const path of forged) {
      const res = await api(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ status: 'Ready' }) });
      expect(res.status, path).toBe(404);
      expect((await res.json<{ error: { code: string } }>()).error.code).toBe('not_found');
    }
    const record = await storedRecord(first);
    expect(record.status).toBe('processing');
    expect(record.run.callback_polls ?? 0).toBe(0);
    expect(record.run.next_at).toBeGreaterThan(Date.now() - 1_000);
  });

  it('a callback replayed after the task ended is answered and changes nothing', async () => {
    const { auth } = await customer(undefined, 100);
    const res = await createTask(auth, { model: 'flux-2', prompt: uniquePrompt('a moth') });
    const { task_id } = await res.json<{ task_id: string }>();
    const done = await waitForTask(auth, task_id);
    expect(done.status).toBe('succeeded');
    const callback = await sentCallback(task_id);
    const before = await storedRecord(task_id);
    for (let i = 0; i < 3; i++) expect((await replay(callback)).status).toBe(200);
    expect(await storedRecord(task_id)).toEqual(before);
    expect(await (await api(`/api/v1/tasks/${task_id}`, { headers: auth })).json()).toEqual(done);
  });

  it('a dropped callback is covered by the fallback poll', async () => {
    const { auth } = await customer(undefined, 100);
    const res = await createTask(auth, { model: 'flux-2', prompt: uniquePrompt('an owl [sim:slow=600] [sim:callback=drop]') });
    const { task_id } = await res.json<{ task_id: string }>();
    expect((await waitForTask(auth, task_id)).status).toBe('succeeded');
    const job = await jobOf(task_id);
    expect(job.callback).toMatchObject({ state: 'dropped', sent_at: null });
    expect(job.polls).toBeGreaterThan(0);
  });

  it('a callback the provider holds back goes out late as asked, and changes nothing once it comes', async () => {
    const { auth } = await customer(undefined, 100);
    const res = await createTask(auth, { model: 'flux-2', prompt: uniquePrompt('a lark [sim:slow=300] [sim:callback-delay=1500]') });
    const { task_id } = await res.json<{ task_id: string }>();
    const done = await waitForTask(auth, task_id);
    expect(done.status).toBe('succeeded');
    const job = await jobOf(task_id, (j) => j.callback?.sent_at != null);
    // `[sim:callback-delay=1500]` held it back that long after the job was ready.
    expect(job.callback!.sent_at! - job.ready_at!).toBeGreaterThanOrEqual(1_500);
    const callback = await sentCallback(task_id);
    expect((await replay(callback)).status).toBe(200);
    expect(await (await api(`/api/v1/tasks/${task_id}`, { headers: auth })).json()).toEqual(done);
  });

  it('is no part of the public API document', async () => {
    const doc = await (await api('/openapi.json')).json<{ paths: Record<string, unknown> }>();
    expect(Object.keys(doc.paths).filter((path) => path.startsWith('/callbacks'))).toEqual([]);
  });
});
