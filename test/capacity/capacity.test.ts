import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { capacityStub } from '../../src/capacity/capacity.do';
import type { TaskView } from '../../src/tasks/task.schema';
import { api, balance, createTask, customer, eventually, waitForTask } from '../helpers';

/**
 * Provider capacity end to end: tasks through the public API, BFL's simulated account with the limit
 * BFL documents (set lower here), and the capacity object between them. Each test has a simulated
 * provider account of its own (`[sim:tenant=…]`), so suites running beside it do not share its limit.
 */

interface SimAccount {
  limit: number | null;
  in_flight: number;
  peak: number;
  accepted: number;
  rejected: number;
}

const tenant = (label: string) => `${label}-${crypto.randomUUID().slice(0, 8)}`;

/** The simulated BFL account `account` refuses (429) work past `limit` tasks in flight. */
async function simLimit(account: string, limit: number): Promise<void> {
  const res = await fetch(`${env.SIMULATOR_URL}/__sim/capacity`, { method: 'POST', body: JSON.stringify({ provider: 'bfl', account, limit }) });
  expect(res.status).toBe(200);
}

async function simAccount(account: string): Promise<SimAccount> {
  return (await fetch(`${env.SIMULATOR_URL}/__sim/capacity?provider=bfl&account=${account}`)).json();
}

/** This file's capacity object for BFL grants `slots` at once, with leases of `leaseSeconds`. */
async function workerSlots(slots: number, leaseSeconds = 300): Promise<void> {
  await runInDurableObject(capacityStub(env, 'bfl'), (instance) => {
    Object.assign(instance, { env: { ...env, PROVIDER_CAPACITY: JSON.stringify({ bfl: slots }), CAPACITY_LEASE_SECONDS: String(leaseSeconds) } });
  });
}

/** Waits until every slot and place of this file's BFL capacity object has been given back. */
async function allGivenBack(): Promise<void> {
  await eventually(async () => {
    const stats = await capacityStub(env, 'bfl').stats();
    return stats.holders === 0 && stats.waiting === 0 ? true : undefined;
  }, 10_000);
}

async function submit(auth: Record<string, string>, prompt: string): Promise<string> {
  const res = await createTask(auth, { model: 'flux-2', prompt });
  expect(res.status).toBe(202);
  return (await res.json<{ task_id: string }>()).task_id;
}

async function view(auth: Record<string, string>, taskId: string): Promise<TaskView> {
  return (await api(`/api/v1/tasks/${taskId}`, { headers: auth })).json<TaskView>();
}

/** The prompts of the submits simulated provider account `account` received, in order. */
async function submitOrder(account: string): Promise<string[]> {
  const sent = await (await fetch(`${env.SIMULATOR_URL}/__sim/requests?path=/v1/flux-2-pro`)).json<{ body: string }[]>();
  return sent.map((r) => (JSON.parse(r.body) as { prompt: string }).prompt).filter((prompt) => prompt.includes(`[sim:tenant=${account}]`));
}

describe('provider capacity', () => {
  it('keeps at most N jobs at the provider, ends every task, serves accounts in turn and only lowers queue positions', async () => {
    // Small: the tests' task deadline is 6 s, and a 5N queue drains in five turns.
    const N = 2;
    const account = tenant('fair');
    await simLimit(account, N);
    await workerSlots(N);
    const [a, b, c] = await Promise.all([customer(undefined, 1000), customer(undefined, 1000), customer(undefined, 1000)]);
    const job = (who: string, i: number, slow = 0) => `Lighthouse ${i} from ${who} [sim:slow=${slow}][sim:tenant=${account}]`;
    // Account a bursts first, its first N jobs long enough for everything after them to queue; b and c come meanwhile.
    const first = await Promise.all(Array.from({ length: N }, (_, i) => submit(a.auth, job('a', i, 700))));
    const rest = await Promise.all([
      ...Array.from({ length: 2 * N }, (_, i) => submit(a.auth, job('a', N + i))),
      ...Array.from({ length: N }, (_, i) => submit(b.auth, job('b', i))),
      ...Array.from({ length: N }, (_, i) => submit(c.auth, job('c', i))),
    ]);
    const burst = [...first, ...rest.slice(0, 2 * N)];
    const others = rest.slice(2 * N);
    const last = others[others.length - 1]!;

    // The last task of c, watched while it waits: queued with a position that only goes down.
    const positions: number[] = [];
    for (;;) {
      const task = await view(c.auth, last);
      if (task.status === 'queued' && task.queue_position !== undefined) positions.push(task.queue_position);
      if (task.status !== 'pending' && task.status !== 'queued') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const tasks = await Promise.all([
      ...burst.map((id) => waitForTask(a.auth, id)),
      ...others.slice(0, N).map((id) => waitForTask(b.auth, id)),
      ...others.slice(N).map((id) => waitForTask(c.auth, id)),
    ]);

    expect(tasks.map((t) => t.status)).toEqual(Array(5 * N).fill('succeeded'));
    const sim = await simAccount(account);
    expect(sim.peak).toBeLessThanOrEqual(N);
    expect(sim).toMatchObject({ accepted: 5 * N, rejected: 0, in_flight: 0 });

    // The burst got the free slots; then one task of each account per turn (in any order within a turn), so b and c finish long before a.
    const order = (await submitOrder(account)).map((prompt) => /from (\w)/.exec(prompt)![1]);
    expect(order).toHaveLength(5 * N);
    expect(order.slice(0, N)).toEqual(Array(N).fill('a'));
    // Then turns of one task per account: b and c are done by the 3N + N-th submit, a's rest comes last.
    const served = order.slice(N, N + 3 * N);
    for (let turn = 0; turn < N; turn++) expect(new Set(served.slice(turn * 3, turn * 3 + 3))).toEqual(new Set(['a', 'b', 'c']));
    expect(order.slice(4 * N)).toEqual(Array(N).fill('a'));

    await allGivenBack();
    expect(positions.length).toBeGreaterThan(0);
    // Where the first look finds it depends on how soon it came (a busy machine looks late); after that it only goes down.
    for (let i = 1; i < positions.length; i++) expect(positions[i]!).toBeLessThanOrEqual(positions[i - 1]!);
  });

  it('takes back the slot of a task that died holding it when its lease runs out, and the waiting task goes on', async () => {
    await workerSlots(1, 1);
    const { accountId, auth } = await customer(undefined, 100);
    // A task that got its slot and then died: it never renews it, never gives it back.
    expect(await capacityStub(env, 'bfl').acquire('bfl', { task_id: 'task_died', account_id: accountId, throttle: null })).toMatchObject({
      granted: true,
    });
    const id = await submit(auth, `A task behind a dead one [sim:tenant=${tenant('lease')}]`);
    await eventually(async () => ((await view(auth, id)).status === 'queued' ? true : undefined), 5_000);
    expect(await view(auth, id)).toMatchObject({ status: 'queued', queue_position: 1 });
    expect((await waitForTask(auth, id)).status).toBe('succeeded');
    expect(await capacityStub(env, 'bfl').stats()).toMatchObject({ expired: 1, holders: 0, waiting: 0 });
  });

  it('takes back a slot whose task is gone long before its lease runs out (a restart lost the release)', async () => {
    // An 8 s lease: longer than the task deadline (6 s), so only the check can free the slot in time.
    await workerSlots(1, 8);
    const { accountId, auth } = await customer(undefined, 100);
    const before = await capacityStub(env, 'bfl').stats();
    expect(await capacityStub(env, 'bfl').acquire('bfl', { task_id: 'task_never_existed', account_id: accountId, throttle: null })).toMatchObject({
      granted: true,
    });
    const id = await submit(auth, `A task behind a vanished one [sim:tenant=${tenant('gone')}]`);
    expect((await waitForTask(auth, id)).status).toBe('succeeded');
    await allGivenBack();
    expect((await capacityStub(env, 'bfl').stats()).expired).toBe(before.expired + 1);
  });

  it('a task that asks again while holding its slot (an answer lost to a restart) gets that slot confirmed, not a second one', async () => {
    await workerSlots(2);
    const stub = capacityStub(env, 'bfl');
    const before = await stub.stats();
    const request = { task_id: `task_again_${crypto.randomUUID()}`, account_id: 'acct_again', throttle: null };
    expect(await stub.acquire('bfl', request)).toEqual({ granted: true, lease_ms: 300_000 });
    expect(await stub.acquire('bfl', request)).toEqual({ granted: true, lease_ms: 300_000 });
    expect(await stub.stats()).toMatchObject({ holders: before.holders + 1, granted: before.granted + 1 });
    await stub.release(request.task_id, false);
    expect((await stub.stats()).holders).toBe(before.holders);
  });

  it('a queued task can be canceled: refunded in full, and its place in the queue is freed', async () => {
    await workerSlots(1);
    const account = tenant('cancel');
    const { auth } = await customer(undefined, 100);
    const blocker = await submit(auth, `Holds the only slot [sim:slow=1500][sim:tenant=${account}]`);
    const waiting = await submit(auth, `Waits behind it [sim:tenant=${account}]`);
    await eventually(async () => ((await view(auth, waiting)).status === 'queued' ? true : undefined), 5_000);
    expect((await capacityStub(env, 'bfl').stats()).waiting).toBe(1);

    const res = await api(`/api/v1/tasks/${waiting}/cancel`, { method: 'POST', headers: auth });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'canceled', credits: 0 });
    await eventually(async () => ((await capacityStub(env, 'bfl').stats()).waiting === 0 ? true : undefined), 5_000);
    expect((await waitForTask(auth, blocker)).status).toBe('succeeded');
    await allGivenBack();
    await eventually(async () => ((await balance(auth)).reserved === 0 ? true : undefined));
    expect(await balance(auth)).toEqual(expect.objectContaining({ balance: 95, reserved: 0 }));
    expect(await submitOrder(account)).toHaveLength(1);
  });

  it('a queued task meets its deadline like any other: failed with timeout, refunded', async () => {
    await workerSlots(1);
    const account = tenant('deadline');
    const { auth } = await customer(undefined, 100);
    const hung = await submit(auth, `Never finishes [sim:hang][sim:tenant=${account}]`);
    const waiting = await submit(auth, `Waits for ever [sim:tenant=${account}]`);
    await eventually(async () => ((await view(auth, waiting)).status === 'queued' ? true : undefined), 5_000);
    const task = await waitForTask(auth, waiting, 30_000);
    expect(task).toMatchObject({ status: 'failed', credits: 0, error: { code: 'timeout' } });
    expect((await waitForTask(auth, hung, 30_000)).error?.code).toBe('timeout');
    await eventually(async () => ((await balance(auth)).reserved === 0 ? true : undefined));
    expect((await balance(auth)).balance).toBe(100);
    // Whether the waiting task got the slot in the moments between the hung one's deadline and its own is a
    // race of their alarms; either way it ended as a timeout, refunded, and every slot came back.
    await allGivenBack();
  });

  it('a prompt the provider always refuses neither lowers the cap nor pauses the others, and retries only after its own backoff', async () => {
    const account = tenant('refused');
    // Room to spare: never more than six of eight slots in use, so the refusals say nothing about the account.
    await workerSlots(8);
    const before = await capacityStub(env, 'bfl').stats();
    const [refusedBy, others] = await Promise.all([customer(undefined, 100), customer(undefined, 1000)]);
    const refused = await submit(refusedBy.auth, `Always too many [sim:http=429][sim:tenant=${account}]`);
    const ids = await Promise.all(Array.from({ length: 5 }, (_, i) => submit(others.auth, `Owl ${i} [sim:tenant=${account}]`)));
    let running = true;
    const limits: number[] = [];
    const sampling = (async () => {
      while (running) {
        limits.push((await capacityStub(env, 'bfl').stats()).limit);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    const tasks = await Promise.all(ids.map((id) => waitForTask(others.auth, id)));
    running = false;
    await sampling;
    expect(tasks.map((t) => t.error?.message ?? t.status)).toEqual(Array(5).fill('succeeded'));
    expect(Math.min(...limits)).toBe(8);
    expect((await waitForTask(refusedBy.auth, refused, 30_000)).status).toBe('failed');
    await allGivenBack();
    // Within its 6 s deadline: retried at once, then after 1 s (its Retry-After), 1 s, 2 s, 4 s: not in a loop.
    const after = await capacityStub(env, 'bfl').stats();
    expect(after.throttled - before.throttled).toBeGreaterThanOrEqual(2);
    expect(after.throttled - before.throttled).toBeLessThanOrEqual(6);
  });

  it('a provider 429 despite the cap lowers it, so the 429 reaches no task as a failure and only a few reach the provider', async () => {
    const account = tenant('aimd');
    await simLimit(account, 2);
    await workerSlots(4);
    const { throttled: before } = await capacityStub(env, 'bfl').stats();
    const { auth } = await customer(undefined, 1000);
    // Two long jobs fill the provider account; the capacity object still thinks it has two slots more.
    const ids = await Promise.all(Array.from({ length: 2 }, (_, i) => submit(auth, `Fox ${i} [sim:slow=700][sim:tenant=${account}]`)));
    ids.push(...(await Promise.all(Array.from({ length: 3 }, (_, i) => submit(auth, `Fox ${i + 2} [sim:tenant=${account}]`)))));
    const lowered = await eventually(async () => {
      const stats = await capacityStub(env, 'bfl').stats();
      return stats.throttled > before ? stats : undefined;
    });
    expect(lowered.limit).toBeLessThan(4);
    const tasks = await Promise.all(ids.map((id) => waitForTask(auth, id)));
    expect(tasks.map((t) => t.error?.message ?? t.status)).toEqual(Array(5).fill('succeeded'));
    const sim = await simAccount(account);
    expect(sim.peak).toBeLessThanOrEqual(2);
    expect(sim.accepted).toBe(5);
    // Each 429 waits out the provider's Retry-After at the capacity object, not in a retry loop of its own.
    expect(sim.rejected).toBeGreaterThan(0);
    expect(sim.rejected).toBeLessThanOrEqual(3);
    await allGivenBack();
  });
});
