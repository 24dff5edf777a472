import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { taskStub } from '../../src/tasks/task.do';
import { accountStub } from '../../src/accounts/account.do';
import { newTaskId } from '../../src/ids';
import { api, balance, createTask, customer, eventually, INTERNAL, newAccountId, topUp, waitForTask } from '../helpers';
import { pngSize } from '../png';

describe('the task object', () => {
  it('charges only for the images delivered when a provider silently filters some', async () => {
    const { auth, accountId } = await customer(undefined, 100);
    const res = await createTask(auth, { model: 'imagen-4', prompt: 'Three lighthouses, one filtered [sim:drop=1]', n: 3 });
    const created = await res.json<{ task_id: string; credits: number }>();
    expect(created.credits).toBe(24);
    const task = await waitForTask(auth, created.task_id);
    expect(task.status).toBe('succeeded');
    expect(task.output!.images).toHaveLength(2);
    expect(task.credits).toBe(16);
    expect(await balance(auth)).toMatchObject({ balance: 84, reserved: 0 });
    const { ledger } = await (await api(`/internal/v1/accounts/${accountId}/credits`, { headers: INTERNAL })).json<{
      ledger: { kind: string; amount: number }[];
    }>();
    expect(ledger.map((e) => [e.kind, e.amount])).toEqual([
      ['refund', 8],
      ['settle', 16],
      ['reserve', 24],
      ['topup', 100],
    ]);
  });

  it('ends a synchronous provider that never answers at the deadline, refunded', async () => {
    const { auth } = await customer(undefined, 10);
    const { task_id } = await (await createTask(auth, { model: 'imagen-4', prompt: 'A call that never returns [sim:hang]' })).json<{ task_id: string }>();
    const task = await waitForTask(auth, task_id, 30_000);
    expect(task).toMatchObject({ status: 'failed', credits: 0, error: { code: 'timeout' } });
    expect(await balance(auth)).toMatchObject({ balance: 10, reserved: 0 });
  });

  it('never keeps inline (base64) results in its storage: they went to R2 as the answer was read', async () => {
    const { auth } = await customer(undefined, 100);
    const body = { model: 'gpt-image-1.5-official', prompt: 'An inline result', n: 2, size: '1536x1024' };
    const { task_id } = await (await createTask(auth, body)).json<{ task_id: string }>();
    const task = await waitForTask(auth, task_id);
    expect({ status: task.status, error: task.error }).toEqual({ status: 'succeeded', error: null });
    const images = (task.output as { images: { url: string }[] }).images;
    expect(images).toHaveLength(2);
    for (const image of images) {
      const stored = await env.IMAGES.get(new URL(image.url).pathname.split('/').pop()!);
      const bytes = new Uint8Array(await stored!.arrayBuffer());
      expect(pngSize(bytes)).toEqual({ width: 1536, height: 1024 });
    }
    const stored = await runInDurableObject(taskStub(env, task_id), async (_instance, state) =>
      JSON.stringify(await state.storage.get('task')),
    );
    expect(stored).not.toContain('base64');
    expect(stored.length).toBeLessThan(10_000);
  });

  it('fails provider_unavailable, refunded, without calling a provider whose key is not configured', async () => {
    const accountId = newAccountId();
    await topUp(accountId, 10);
    const taskId = newTaskId();
    const prompt = `Nobody holds the key ${taskId}`;
    const task = taskStub(env, taskId);
    // This object (and only it) runs as if BFL_API_KEY were unset.
    await runInDurableObject(task, (instance) => {
      Object.assign(instance, { env: { ...env, BFL_API_KEY: '' } });
    });
    expect((await accountStub(env, accountId).reserve(accountId, taskId, 5)).ok).toBe(true);
    await task.create({
      task_id: taskId,
      account_id: accountId,
      model: 'flux-2',
      request: { model: 'flux-2', prompt, aspect_ratio: '1:1', type: 'pro', resolution: '1K' },
      credits: 5,
      images_requested: 1,
      node_count: 1,
      public_base_url: 'http://gateway.test',
    });
    const view = await eventually(async () => {
      const current = await task.view(accountId);
      return current?.status === 'failed' ? current : undefined;
    });
    expect(view.error).toMatchObject({ code: 'provider_unavailable' });
    expect(view.error!.message).toContain('BFL_API_KEY');
    await eventually(async () => ((await accountStub(env, accountId).reconcile(accountId)).reserved === 0 ? true : undefined));
    expect((await accountStub(env, accountId).reconcile(accountId)).balance).toBe(10);
    const sent = await (await fetch(`${env.SIMULATOR_URL}/__sim/requests?path=/v1/flux-2-pro`)).json<{ body: string }[]>();
    expect(sent.some((r) => r.body.includes(prompt))).toBe(false);
  });
});
