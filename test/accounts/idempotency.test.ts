import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { accountStub } from '../../src/accounts/account.do';
import { requestFingerprint } from '../../src/accounts/idempotency';
import { newTaskId } from '../../src/ids';
import { taskStub } from '../../src/tasks/task.do';
import { api, balance, customer, eventually, waitForTask } from '../helpers';

const body = { model: 'flux-2', prompt: 'A key kept for a day' };

function create(auth: Record<string, string>, key: string, json: unknown = body): Promise<Response> {
  return api('/api/v1/images/generations', { method: 'POST', headers: { ...auth, 'idempotency-key': key }, json });
}

/** Moves an entry's first request `ms` into the past, as if that much time had gone by. */
async function age(accountId: string, key: string, ms: number): Promise<void> {
  await runInDurableObject(accountStub(env, accountId), (_instance, state) => {
    state.storage.sql.exec('UPDATE idempotency_keys SET created_at = ? WHERE key = ?', new Date(Date.now() - ms).toISOString(), key);
  });
}

const alarmOf = (accountId: string) => runInDurableObject(accountStub(env, accountId), (_instance, state) => state.storage.getAlarm());

const HOUR = 3600_000;

/** Waits until the account's tasks have all settled: no reservation is open. */
const settled = (auth: Record<string, string>) => eventually(async () => ((await balance(auth)).reserved === 0 ? true : undefined));

describe('idempotency keys are kept 24 hours, then pruned by the account alarm', () => {
  it('forgets a key older than 24 hours, keeps a younger one, and keeps the alarm only while entries remain', async () => {
    const { auth, accountId } = await customer(undefined, 100);
    const old = await (await create(auth, 'yesterday')).json<{ task_id: string }>();
    const recent = await (await create(auth, 'this-morning')).json<{ task_id: string }>();
    await waitForTask(auth, old.task_id);
    await waitForTask(auth, recent.task_id);
    await settled(auth);
    await age(accountId, 'yesterday', 24 * HOUR + 60_000);
    await age(accountId, 'this-morning', 23 * HOUR);

    expect(await runDurableObjectAlarm(accountStub(env, accountId))).toBe(true);
    // No reservation is open: the remaining entry keeps the alarm set, for when it turns 24 hours old.
    const next = await alarmOf(accountId);
    expect(next).not.toBeNull();
    expect(Math.abs(next! - (Date.now() + HOUR))).toBeLessThan(60_000);

    const other = { ...body, prompt: 'A different request under an old key' };
    const reused = await create(auth, 'yesterday', other);
    expect(reused.status).toBe(202);
    expect(reused.headers.get('idempotent-replayed')).toBeNull();
    expect((await reused.json<{ task_id: string }>()).task_id).not.toBe(old.task_id);
    expect((await create(auth, 'this-morning', other)).status).toBe(422);
  });

  it('deletes the alarm once nothing is left to do', async () => {
    const { auth, accountId } = await customer(undefined, 100);
    const { task_id } = await (await create(auth, 'short-lived')).json<{ task_id: string }>();
    await waitForTask(auth, task_id);
    await settled(auth);
    await age(accountId, 'short-lived', 25 * HOUR);
    expect(await runDurableObjectAlarm(accountStub(env, accountId))).toBe(true);
    expect(await alarmOf(accountId)).toBeNull();
  });
});

describe('an entry left in flight by a crash does not block its key for ever', () => {
  it('frees the key and refunds when the task was never created', async () => {
    const { auth, accountId } = await customer(undefined, 100);
    const account = accountStub(env, accountId);
    // The Worker died after reserving and claiming the key, before creating the task.
    const orphan = newTaskId();
    const claim = { key: 'crashed-before-create', fingerprint: await requestFingerprint(body) };
    expect((await account.reserve(accountId, orphan, 5, { model: 'flux-2', idempotency: claim })).ok).toBe(true);
    expect((await create(auth, claim.key)).status).toBe(409);

    await age(accountId, claim.key, 3 * 60_000);
    expect(await runDurableObjectAlarm(account)).toBe(true);
    expect(await balance(auth)).toMatchObject({ balance: 100, reserved: 0 });

    const retried = await create(auth, claim.key);
    expect(retried.status).toBe(202);
    expect(retried.headers.get('idempotent-replayed')).toBeNull();
    expect((await retried.json<{ task_id: string }>()).task_id).not.toBe(orphan);
    // The abandoned task can never start late.
    expect(await taskStub(env, orphan).existingOrAbandon()).toBeNull();
  });

  it("completes the entry with the task's short form when the task exists", async () => {
    const { auth, accountId } = await customer(undefined, 100);
    const account = accountStub(env, accountId);
    // The Worker died after creating the task, before storing its answer.
    const taskId = newTaskId();
    const claim = { key: 'crashed-after-create', fingerprint: await requestFingerprint(body) };
    expect((await account.reserve(accountId, taskId, 5, { model: 'flux-2', idempotency: claim })).ok).toBe(true);
    await taskStub(env, taskId).create({
      task_id: taskId,
      account_id: accountId,
      model: 'flux-2',
      request: { ...body, aspect_ratio: '1:1', type: 'pro', resolution: '1K' },
      credits: 5,
      images_requested: 1,
      node_count: 1,
      public_base_url: 'http://gateway.test',
    });
    await age(accountId, claim.key, 3 * 60_000);
    expect(await runDurableObjectAlarm(account)).toBe(true);

    const replay = await create(auth, claim.key);
    expect(replay.status).toBe(202);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    const short = await replay.json<Record<string, unknown>>();
    expect(Object.keys(short).sort()).toEqual(['created_at', 'credits', 'model', 'status', 'task_id']);
    expect(short).toMatchObject({ task_id: taskId, model: 'flux-2', credits: 5 });
    await waitForTask(auth, taskId);
  });

  it('leaves an entry younger than the in-flight limit alone', async () => {
    const { auth, accountId } = await customer(undefined, 100);
    const account = accountStub(env, accountId);
    const claim = { key: 'still-running', fingerprint: await requestFingerprint(body) };
    expect((await account.reserve(accountId, newTaskId(), 5, { model: 'flux-2', idempotency: claim })).ok).toBe(true);
    await age(accountId, claim.key, 30_000);
    expect(await runDurableObjectAlarm(account)).toBe(true);
    expect((await create(auth, claim.key)).status).toBe(409);
    expect(await balance(auth)).toMatchObject({ balance: 95, reserved: 5 });
  });
});
