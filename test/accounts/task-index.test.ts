import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { accountStub } from '../../src/accounts/account.do';
import { newTaskId } from '../../src/ids';
import { newAccountId, topUp } from '../helpers';

/** An account with `count` reserved tasks, oldest first. */
async function accountWithTasks(count: number) {
  const accountId = newAccountId();
  await topUp(accountId, 100);
  const account = accountStub(env, accountId);
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const taskId = newTaskId();
    expect((await account.reserve(accountId, taskId, 1, { model: i % 2 ? 'cogview-4' : 'flux-2' })).ok).toBe(true);
    ids.push(taskId);
  }
  return { accountId, account, ids };
}

describe("the account's task index", () => {
  it('lists every reserved task newest first, pending', async () => {
    const { account, ids } = await accountWithTasks(3);
    expect(await account.listTasks({ limit: 10 })).toEqual({ task_ids: [...ids].reverse(), next_before: null });
    expect((await account.listTasks({ limit: 10, status: 'pending' })).task_ids).toHaveLength(3);
    expect((await account.listTasks({ limit: 10, model: 'cogview-4' })).task_ids).toEqual([ids[1]]);
  });

  it('moves a running status forward only, and never past a final one', async () => {
    const { account, ids } = await accountWithTasks(1);
    const [taskId] = ids as [string];
    const statusOf = async () => {
      for (const status of ['pending', 'queued', 'processing', 'succeeded', 'failed', 'canceled'] as const) {
        if ((await account.listTasks({ limit: 10, status })).task_ids.includes(taskId)) return status;
      }
      return null;
    };
    expect(await account.noteTaskStatus(taskId, 'processing')).toBe(true);
    expect(await account.noteTaskStatus(taskId, 'queued')).toBe(false);
    expect(await account.noteTaskStatus(taskId, 'pending')).toBe(false);
    expect(await statusOf()).toBe('processing');
    // The task's own final status, when the task object reports it with the settlement.
    expect(await account.resolve(taskId, 0, 'canceled')).toEqual({ applied: true, charged: 0 });
    expect(await statusOf()).toBe('canceled');
    expect(await account.noteTaskStatus(taskId, 'processing')).toBe(false);
    expect(await account.resolve(taskId, 1, 'succeeded')).toEqual({ applied: false, charged: 0 });
    expect(await statusOf()).toBe('canceled');
  });

  it('without a status, takes a charged task as succeeded and an uncharged one as failed', async () => {
    const { account, ids } = await accountWithTasks(2);
    const [charged, refunded] = ids as [string, string];
    await account.resolve(charged, 1);
    await account.resolve(refunded, 0);
    expect((await account.listTasks({ limit: 10, status: 'succeeded' })).task_ids).toEqual([charged]);
    expect((await account.listTasks({ limit: 10, status: 'failed' })).task_ids).toEqual([refunded]);
  });

  it('pages by position: no task twice, none left out', async () => {
    const { account, ids } = await accountWithTasks(7);
    const seen: string[] = [];
    let before: number | undefined;
    for (;;) {
      const page = await account.listTasks({ limit: 3, before });
      seen.push(...page.task_ids);
      if (page.next_before === null) break;
      before = page.next_before;
    }
    expect(seen).toEqual([...ids].reverse());
  });

  it('forgets a task whose creation was abandoned, refunds it and frees nothing else', async () => {
    const { accountId, account, ids } = await accountWithTasks(2);
    await account.abandonCreation(ids[0]!);
    expect((await account.listTasks({ limit: 10 })).task_ids).toEqual([ids[1]]);
    expect(await account.reconcile(accountId)).toMatchObject({ balance: 99, reserved: 1, consistent: true });
  });
});
