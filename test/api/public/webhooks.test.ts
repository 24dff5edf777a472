import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import type { TaskView } from '../../../src/tasks/task.schema';
import { config } from '../../../src/config';
import { api, createTask, customer, eventually, waitForTask } from '../../helpers';
import { currentSecret, deliveries, receiver, settledWebhookTask, taskWithCallback } from '../../receiver';

const attemptsInSchedule = config(env).webhookScheduleS.length + 1;

describe('webhook delivery of finished tasks', () => {
  it('retries a receiver that fails twice: one accepted delivery, three attempts, one webhook-id, valid signatures', async () => {
    const { auth } = await customer(undefined, 100);
    const hook = receiver('fail=2');
    const taskId = await taskWithCallback(auth, hook.url);

    const task = await settledWebhookTask(auth, taskId);
    expect(task.status).toBe('succeeded');
    expect(task.webhook).toEqual({
      url: hook.url,
      status: 'delivered',
      attempts: 3,
      last_status_code: 204,
      last_error: null,
      next_attempt_at: null,
    });

    const got = await deliveries(hook.name);
    expect(got.map((d) => d.answered)).toEqual([500, 500, 204]);
    const ids = new Set(got.map((d) => d.headers['webhook-id']));
    expect(ids.size).toBe(1);
    expect([...ids][0]).toMatch(/^[\w-]+$/);

    const verifier = new Webhook(await currentSecret(auth));
    for (const delivery of got) {
      expect(delivery.headers['content-type']).toBe('application/json');
      expect(delivery.headers['webhook-timestamp']).toMatch(/^\d+$/);
      expect(verifier.verify(delivery.body, delivery.headers)).toEqual(JSON.parse(delivery.body));
    }

    // The payload is the task as GET /api/v1/tasks/{id} shows it at the time of the attempt.
    const accepted = JSON.parse(got[2]!.body) as TaskView;
    const { webhook: _final, updated_at: _u, ...finished } = task;
    expect(accepted).toMatchObject(finished);
    expect(accepted.webhook).toMatchObject({ status: 'pending', attempts: 2, last_status_code: 500 });
  });

  it('delivers failed tasks too, with the error', async () => {
    const { auth } = await customer(undefined, 100);
    const hook = receiver();
    const taskId = await taskWithCallback(auth, hook.url, 'A broken render [sim:fail]');
    const task = await settledWebhookTask(auth, taskId);
    expect(task).toMatchObject({ status: 'failed', webhook: { status: 'delivered', attempts: 1 } });
    const [delivery] = await deliveries(hook.name);
    const payload = new Webhook(await currentSecret(auth)).verify(delivery!.body, delivery!.headers) as TaskView;
    expect(payload).toMatchObject({ task_id: taskId, status: 'failed', output: null, credits: 0, error: task.error });
  });

  it('gives up on a receiver that always fails once the schedule is used up', async () => {
    const { auth } = await customer(undefined, 100);
    const hook = receiver('status=500');
    const taskId = await taskWithCallback(auth, hook.url);
    const task = await settledWebhookTask(auth, taskId);
    expect(task.webhook).toEqual({
      url: hook.url,
      status: 'failed',
      attempts: attemptsInSchedule,
      last_status_code: 500,
      last_error: 'receiver answered 500',
      next_attempt_at: null,
    });
    expect(await deliveries(hook.name)).toHaveLength(attemptsInSchedule);
  });

  it('stops at once on 410 Gone', async () => {
    const { auth } = await customer(undefined, 100);
    const hook = receiver('status=410');
    const taskId = await taskWithCallback(auth, hook.url);
    const task = await settledWebhookTask(auth, taskId);
    expect(task.webhook).toMatchObject({ status: 'failed', attempts: 1, last_status_code: 410, next_attempt_at: null });
    expect(await deliveries(hook.name)).toHaveLength(1);
  });

  it('treats a redirect as a failure and never follows it', async () => {
    const { auth } = await customer(undefined, 100);
    const hook = receiver('status=307');
    const taskId = await taskWithCallback(auth, hook.url);
    const task = await settledWebhookTask(auth, taskId);
    expect(task.webhook).toMatchObject({ status: 'failed', attempts: attemptsInSchedule, last_status_code: 307 });
    expect(await deliveries(`${hook.name}-redirected`)).toEqual([]);
  });

  it('sleeps until the next attempt between retries instead of re-running its alarm', async () => {
    const { auth } = await customer(undefined, 100);
    const taskId = await taskWithCallback(auth, receiver('status=500').url);
    const stub = env.TASKS.get(env.TASKS.idFromName(taskId));
    // Reading the task and then the alarm can straddle an attempt, hence `eventually`.
    await eventually(async () => {
      const task = await (await api(`/api/v1/tasks/${taskId}`, { headers: auth })).json<TaskView>();
      const next = task.webhook?.status === 'pending' && task.webhook.attempts > 0 ? task.webhook.next_attempt_at : null;
      if (!next) return undefined;
      const alarm = await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm());
      return alarm === Date.parse(next) ? true : undefined;
    });
  });

  it('has no webhook for a task without callback_url', async () => {
    const { auth } = await customer(undefined, 100);
    const created = await (await createTask(auth, { model: 'flux-2', prompt: 'No callback here' })).json<{ task_id: string }>();
    expect((await waitForTask(auth, created.task_id)).webhook).toBeNull();
  });
});
