import { abortAllDurableObjects, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { accountStub } from '../../src/accounts/account.do';
import { newTaskId } from '../../src/ids';
import { taskStub } from '../../src/tasks/task.do';
import { api, createTask, customer, INTERNAL, newAccountId, topUp, waitForTask } from '../helpers';

interface Ledger {
  balance: number;
  reserved: number;
  ledger: { kind: string; task_id?: string }[];
}

const ledger = async (accountId: string) =>
  (await api(`/internal/v1/accounts/${accountId}/credits?limit=200`, { headers: INTERNAL })).json<Ledger>();

describe('exactly once', () => {
  it('settles a task once even when its terminal transition runs again after both objects were evicted', async () => {
    const { auth, accountId } = await customer(undefined, 20);
    const { task_id } = await (await createTask(auth, { model: 'flux-2', prompt: 'A twice-told tale' })).json<{ task_id: string }>();
    await waitForTask(auth, task_id);
    const task = taskStub(env, task_id);

    // Replay the end of the task's life as if the alarm had died after paying but before saving it.
    await runInDurableObject(task, async (_instance, state) => {
      const record = await state.storage.get<{ billing: { done: boolean; next_at: number | null } }>('task');
      expect(record!.billing.done).toBe(true);
      record!.billing.done = false;
      record!.billing.next_at = 0;
      await state.storage.put('task', record);
      // Far enough ahead not to fire by itself; runDurableObjectAlarm runs it now.
      await state.storage.setAlarm(Date.now() + 60_000);
    });
    // Every object restarts from its storage, as after an eviction.
    // (Stubs to an aborted object stay broken: take new ones.)
    await abortAllDurableObjects();
    expect(await runDurableObjectAlarm(taskStub(env, task_id))).toBe(true);
    await abortAllDurableObjects();

    // And a retry arriving directly, asking for a different outcome, changes nothing.
    expect(await accountStub(env, accountId).resolve(task_id, 0)).toEqual({ applied: false, charged: 5 });

    const after = await ledger(accountId);
    expect(after.ledger.filter((e) => e.task_id === task_id).map((e) => e.kind)).toEqual(['settle', 'reserve']);
    expect(after).toMatchObject({ balance: 15, reserved: 0 });
  });

  it('reserves once per task however often the reservation is retried', async () => {
    const accountId = newAccountId();
    await topUp(accountId, 10);
    const account = accountStub(env, accountId);
    const taskId = newTaskId();
    const results = await Promise.all([1, 2, 3].map(() => account.reserve(accountId, taskId, 4)));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(await ledger(accountId)).toMatchObject({ balance: 6, reserved: 4 });
  });
});

describe('the reservation sweep', () => {
  it('returns a reservation whose task never came to life, and stops that task from starting later', async () => {
    const accountId = newAccountId();
    await topUp(accountId, 10);
    const account = accountStub(env, accountId);
    const orphan = newTaskId();
    expect((await account.reserve(accountId, orphan, 5)).ok).toBe(true);

    // Age the reservation past the sweep's threshold instead of waiting for it.
    await runInDurableObject(account, (_instance, state) => {
      state.storage.sql.exec("UPDATE open_reservations SET created_at = '2000-01-01T00:00:00.000Z'");
    });
    expect(await runDurableObjectAlarm(account)).toBe(true);

    expect(await ledger(accountId)).toMatchObject({ balance: 10, reserved: 0 });
    const late = await taskStub(env, orphan).create({
      task_id: orphan,
      account_id: accountId,
      model: 'flux-2',
      request: { model: 'flux-2', prompt: 'too late' },
      credits: 5,
      images_requested: 1,
      node_count: 1,
      public_base_url: 'http://gateway.test',
    });
    expect(late).toBeNull();
  });

  it('looks two minutes after a reservation, so credits a killed creation held come back well before any deadline', async () => {
    const accountId = newAccountId();
    await topUp(accountId, 10);
    const account = accountStub(env, accountId);
    const before = Date.now();
    expect((await account.reserve(accountId, newTaskId(), 5)).ok).toBe(true);
    const alarm = await runInDurableObject(account, (_instance, state) => state.storage.getAlarm());
    expect(alarm).toBeGreaterThanOrEqual(before + 2 * 60_000);
    expect(alarm).toBeLessThanOrEqual(Date.now() + 2 * 60_000);
  });

  it('restarts a running task whose alarm was lost, which then finishes and settles', async () => {
    const { auth, accountId } = await customer(undefined, 10);
    const { task_id } = await (await createTask(auth, { model: 'flux-2', prompt: 'A task that lost its alarm [sim:slow=3000]' })).json<{ task_id: string }>();
    const task = taskStub(env, task_id);
    await runInDurableObject(task, async (_instance, state) => {
      await state.storage.deleteAlarm();
    });
    const account = accountStub(env, accountId);
    await runInDurableObject(account, (_instance, state) => {
      state.storage.sql.exec("UPDATE open_reservations SET created_at = '2000-01-01T00:00:00.000Z'");
    });
    expect(await runDurableObjectAlarm(account)).toBe(true);
    const rearmed = await runInDurableObject(task, (_instance, state) => state.storage.getAlarm());
    expect(rearmed).not.toBeNull();
    expect((await waitForTask(auth, task_id)).status).toBe('succeeded');
    expect(await ledger(accountId)).toMatchObject({ balance: 5, reserved: 0 });
  });

  it('leaves the reservation of a running task alone', async () => {
    const { auth, accountId } = await customer(undefined, 10);
    const { task_id } = await (await createTask(auth, { model: 'flux-2', prompt: 'Still working [sim:slow=4000]' })).json<{ task_id: string }>();
    const account = accountStub(env, accountId);
    await runInDurableObject(account, async (_instance, state) => {
      state.storage.sql.exec("UPDATE open_reservations SET created_at = '2000-01-01T00:00:00.000Z'");
    });
    expect(await runDurableObjectAlarm(account)).toBe(true);
    expect(await ledger(accountId)).toMatchObject({ balance: 5, reserved: 5 });
    await waitForTask(auth, task_id);
  });
});

describe('reconciliation', () => {
  it('reports a reservation still open past its task\'s deadline as a problem, not as consistent', async () => {
    const { auth, accountId } = await customer(undefined, 10);
    const { task_id } = await (await createTask(auth, { model: 'flux-2', prompt: 'Running late [sim:slow=3000]' })).json<{ task_id: string }>();
    const reconciliation = async () =>
      (await api(`/internal/v1/accounts/${accountId}/reconciliation`, { headers: INTERNAL })).json<{ consistent: boolean; problems: string[] }>();
    expect(await reconciliation()).toMatchObject({ consistent: true, problems: [] });
    await runInDurableObject(accountStub(env, accountId), (_instance, state) => {
      state.storage.sql.exec("UPDATE open_reservations SET created_at = '2000-01-01T00:00:00.000Z'");
    });
    expect(await reconciliation()).toMatchObject({
      consistent: false,
      problems: [`reservation of ${task_id} is still open past its task's deadline`],
    });
    await waitForTask(auth, task_id);
    expect(await reconciliation()).toMatchObject({ consistent: true, problems: [] });
  });
});
