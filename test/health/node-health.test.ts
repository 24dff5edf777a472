import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { type Breaker, FAILURES_TO_OPEN } from '../../src/health/breaker';
import type { ModelStatus } from '../../src/health/model-status';
import { nodeHealthStub, type NodeStats } from '../../src/health/node-health.do';
import type { TaskView } from '../../src/tasks/task.schema';
import { api, balance, createTask, customer, eventually, waitForTask } from '../helpers';
import { simulatorRequests, uniquePrompt } from '../simulator-fixtures';

/**
 * Node health through the public API. node63 (Ideogram's synchronous routes) serves ideogram-v3 alone
 * and ideogram-v4 first, which fails over to node30 (Ideogram's queued route). "node63 is down" is
 * said per task, in its prompt (`[sim:only=ideogram_v4_sync]` keeps a fault off node30): the simulator
 * is shared by every test file, and a switch for all its requests would reach theirs.
 */
const NODE63_V3 = '/v1/ideogram-v3/generate';
const NODE63_V4 = '/v1/ideogram-v4/generate';
const NODE63_DOWN = '[sim:http=503][sim:only=ideogram_v4_sync]';

const stats = (node: string): Promise<NodeStats> => nodeHealthStub(env, node).stats();

/** The node's health once its object has heard `reports` outcomes (tasks report without waiting). */
const afterReports = (node: string, reports: number): Promise<NodeStats> =>
  eventually(async () => {
    const now = await stats(node);
    const { successes, failures, neutral } = now.overall;
    return successes + failures + neutral >= reports ? now : undefined;
  });

async function run(auth: Record<string, string>, body: Record<string, unknown>): Promise<TaskView> {
  const res = await createTask(auth, body);
  expect(res.status).toBe(202);
  return waitForTask(auth, (await res.json<{ task_id: string }>()).task_id);
}

/**
 * Moves the node's open breaker back by its whole cool-down (30 s, as configured), as if that time had
 * passed: the probe is tested without waiting, and new tasks meanwhile meet the node open whatever the
 * machine's speed.
 */
const endCooldown = (node: string): Promise<void> =>
  runInDurableObject(nodeHealthStub(env, node), (_instance, state) => {
    const breaker = state.storage.kv.get<Breaker>('breaker')!;
    state.storage.kv.put('breaker', { ...breaker, opened_at: breaker.opened_at! - 30_000 });
  });

const requestsTo = async (path: string, marker: string): Promise<number> =>
  (await simulatorRequests(path, marker)).filter((r) => r.path === path).length;

async function modelStatus(model: string): Promise<ModelStatus> {
  const res = await api(`/api/v1/models/${model}`);
  expect(res.status).toBe(200);
  return (await res.json<{ status: ModelStatus }>()).status;
}

/** The model's status once it matches `expected` (snapshots are written every few seconds at most). */
const statusBecomes = (model: string, expected: Partial<ModelStatus>): Promise<ModelStatus> =>
  eventually(async () => {
    const status = await modelStatus(model);
    return Object.entries(expected).every(([k, v]) => status[k as keyof ModelStatus] === v) ? status : undefined;
  });

describe('node health', () => {
  it('takes a node failing every task out of rotation after a bounded number of failures, and brings it back through one probe', async () => {
    const { auth } = await customer(undefined, 1_000);
    expect(await modelStatus('ideogram-v3')).toEqual({ state: 'operational', success_rate: null, p50_seconds: null, window_seconds: 900 });

    // node63 fails every one of these: each task spends its three tries, fails and is refunded.
    const failing = await Promise.all(
      Array.from({ length: FAILURES_TO_OPEN }, () => run(auth, { model: 'ideogram-v3', prompt: uniquePrompt('a poster [sim:http=503]') })),
    );
    for (const task of failing) {
      expect(task).toMatchObject({ status: 'failed', credits: 0, error: { code: 'provider_unavailable' } });
      expect(await requestsTo(NODE63_V3, task.input.prompt as string)).toBe(3);
    }
    expect(await afterReports('node63', FAILURES_TO_OPEN)).toMatchObject({ state: 'open', consecutive_failures: FAILURES_TO_OPEN });

    // Out of rotation for every model it serves: ideogram-v4 goes straight to node30 (node63 hears
    // nothing of its tasks), and ideogram-v3, with no other node, fails at once, refunded.
    const [skipped, clean, alone] = await Promise.all([
      run(auth, { model: 'ideogram-v4', prompt: uniquePrompt(`a poster ${NODE63_DOWN}`) }),
      run(auth, { model: 'ideogram-v4', prompt: uniquePrompt('a clean poster') }),
      run(auth, { model: 'ideogram-v3', prompt: uniquePrompt('a lonely poster') }),
    ]);
    for (const task of [skipped, clean]) {
      expect(task).toMatchObject({ status: 'succeeded', node: 'node30', error: null });
      expect(await requestsTo(NODE63_V4, task.input.prompt as string)).toBe(0);
    }
    expect(alone).toMatchObject({ status: 'failed', credits: 0, error: { code: 'provider_unavailable' } });
    expect(alone.error!.message).toMatch(/node63 is out of rotation/);
    expect(await requestsTo(NODE63_V3, alone.input.prompt as string)).toBe(0);
    // Only the two ideogram-v4 tasks were charged.
    expect(await balance(auth)).toMatchObject({ balance: 1_000 - 2 * 12, reserved: 0 });

    // The product page sees it from the same outcomes.
    expect(await statusBecomes('ideogram-v3', { state: 'down' })).toMatchObject({ success_rate: 0 });
    const degraded = await statusBecomes('ideogram-v4', { state: 'degraded', success_rate: 1 });
    expect(degraded.p50_seconds).toBeGreaterThan(0);
    const listed = await (await api('/api/v1/models')).json<{ data: { id: string; status: ModelStatus }[] }>();
    expect(listed.data.find((m) => m.id === 'ideogram-v3')!.status.state).toBe('down');

    // Once the cool-down is over, one task probes node63; it is served there, and node63 is back.
    await endCooldown('node63');
    expect((await stats('node63')).state).toBe('half_open');
    const probe = await run(auth, { model: 'ideogram-v4', prompt: uniquePrompt('a probing poster') });
    expect(probe).toMatchObject({ status: 'succeeded', node: 'node63' });
    expect(await afterReports('node63', FAILURES_TO_OPEN + 1)).toMatchObject({ state: 'closed', consecutive_failures: 0 });
    const again = await run(auth, { model: 'ideogram-v3', prompt: uniquePrompt('a poster again') });
    expect(again).toMatchObject({ status: 'succeeded', node: 'node63' });
    await statusBecomes('ideogram-v4', { state: 'operational', success_rate: 1 });
    // One served of six over the window: up, but below 90%.
    await statusBecomes('ideogram-v3', { state: 'degraded', success_rate: Math.round((1 / 6) * 10_000) / 10_000 });
  });

  it("does not count a customer's moderated or refused request against the node", async () => {
    const { auth } = await customer(undefined, 1_000);
    const prompts = [
      ...Array.from({ length: FAILURES_TO_OPEN }, () => uniquePrompt('something the filter dislikes [sim:moderate]')),
      uniquePrompt('a request the provider refuses [sim:http=400]'),
    ];
    const tasks = await Promise.all(prompts.map((prompt) => run(auth, { model: 'flux-2', prompt })));
    expect(tasks.map((t) => t.error?.code)).toEqual([...Array(FAILURES_TO_OPEN).fill('content_moderated'), 'provider_error']);
    const node41 = await afterReports('node41', prompts.length);
    expect(node41).toMatchObject({ state: 'closed', consecutive_failures: 0, overall: { successes: 0, failures: 0, neutral: prompts.length } });
    expect(await statusBecomes('flux-2', { state: 'operational' })).toMatchObject({ success_rate: null });

    const served = await run(auth, { model: 'flux-2', prompt: uniquePrompt('a clean lighthouse') });
    expect(served).toMatchObject({ status: 'succeeded', node: 'node41' });
    const status = await statusBecomes('flux-2', { state: 'operational', success_rate: 1 });
    expect(status.p50_seconds).toBeGreaterThanOrEqual(0);
  });
});
