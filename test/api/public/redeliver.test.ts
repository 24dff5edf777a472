import { env } from 'cloudflare:workers';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { newTaskId } from '../../../src/ids';
import { taskSnapshotKey } from '../../../src/tasks/task-snapshot';
import type { TaskView, WebhookState } from '../../../src/tasks/task.schema';
import { config } from '../../../src/config';
import { api, createTask, customer, eventually, waitForTask } from '../../helpers';
import { currentSecret, deliveries, receiver, settledWebhookTask, taskWithCallback } from '../../receiver';

const redeliver = (auth: Record<string, string>, taskId: string) =>
  api(`/api/v1/tasks/${taskId}/webhook/redeliver`, { method: 'POST', headers: auth });

/** The task's KV snapshot once its webhook shows `status`. */
const snapshotWith = (taskId: string, status: WebhookState['status']) =>
  eventually(async () => {
    const snapshot = await env.KV.get<{ task: TaskView }>(taskSnapshotKey(taskId), 'json');
    return snapshot?.task.webhook?.status === status ? snapshot.task : undefined;
  });

describe('POST /api/v1/tasks/{task_id}/webhook/redeliver', () => {
  it('delivers a given-up webhook again with the same webhook-id, and rewrites the snapshot after', async () => {
    const { auth } = await customer(undefined, 100);
    const scheduled = config(env).webhookScheduleS.length + 1;
    const hook = receiver(`fail=${scheduled}`);
    const taskId = await taskWithCallback(auth, hook.url);
    expect((await settledWebhookTask(auth, taskId)).webhook).toMatchObject({ status: 'failed', attempts: scheduled });
    await snapshotWith(taskId, 'failed');

    const res = await redeliver(auth, taskId);
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ url: hook.url, status: 'pending', attempts: 0, last_status_code: null });

    const task = await settledWebhookTask(auth, taskId);
    expect(task.webhook).toMatchObject({ status: 'delivered', attempts: 1, last_status_code: 204 });
    const snapshot = await snapshotWith(taskId, 'delivered');
    expect(snapshot.webhook).toEqual(task.webhook);

    const got = await deliveries(hook.name);
    expect(got.map((d) => d.answered)).toEqual([...Array<number>(scheduled).fill(500), 204]);
    expect(new Set(got.map((d) => d.headers['webhook-id'])).size).toBe(1);
    const verifier = new Webhook(await currentSecret(auth));
    expect(verifier.verify(got.at(-1)!.body, got.at(-1)!.headers)).toMatchObject({ task_id: taskId, status: 'succeeded' });
  });

  it('waits for an attempt in flight, so the restarted delivery is not overwritten by it', async () => {
    const { auth } = await customer(undefined, 100);
    const hook = receiver('fail=1&delay=1500');
    const taskId = await taskWithCallback(auth, hook.url);
    // The receiver records a request before its delay, so the first attempt is now in flight.
    await eventually(async () => ((await deliveries(hook.name)).length === 1 ? true : undefined));
    const res = await redeliver(auth, taskId);
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ status: 'pending', attempts: 0 });
    const task = await settledWebhookTask(auth, taskId);
    expect(task.webhook).toMatchObject({ status: 'delivered', attempts: 1, last_status_code: 204 });
    expect((await deliveries(hook.name)).map((d) => d.answered)).toEqual([500, 204]);
  });

  it('answers 404 for unknown ids and for tasks of other accounts', async () => {
    const owner = await customer(undefined, 100);
    const stranger = await customer();
    const taskId = await taskWithCallback(owner.auth, receiver().url);
    await settledWebhookTask(owner.auth, taskId);
    for (const [auth, id] of [
      [stranger.auth, taskId],
      [owner.auth, newTaskId()],
      [owner.auth, 'not-a-task-id'],
    ] as const) {
      const res = await redeliver(auth, id);
      expect(res.status).toBe(404);
      expect((await res.json<{ error: { code: string } }>()).error.code).toBe('not_found');
    }
    expect((await redeliver({}, taskId)).status).toBe(401);
  });

  it('answers 409 for a task without callback_url and for one still running', async () => {
    const { auth } = await customer(undefined, 100);
    const plain = await (await createTask(auth, { model: 'flux-2', prompt: 'No callback' })).json<{ task_id: string }>();
    await waitForTask(auth, plain.task_id);
    const noCallback = await redeliver(auth, plain.task_id);
    expect(noCallback.status).toBe(409);
    expect((await noCallback.json<{ error: { code: string; message: string } }>()).error).toMatchObject({
      code: 'conflict',
      message: expect.stringContaining('callback_url'),
    });

    const running = await taskWithCallback(auth, receiver().url, 'A slow sunrise [sim:slow=3000]');
    const early = await redeliver(auth, running);
    expect(early.status).toBe(409);
    expect((await early.json<{ error: { message: string } }>()).error.message).toContain('still running');
  });
});
