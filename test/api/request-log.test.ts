import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { api, createTask, customer, eventually, INTERNAL, newAccountId, waitForTask } from '../helpers';

/**
 * Issue 12, item 5: the structured log lines, read from the console of the test's isolate, where the
 * Worker and its Durable Objects run too. Lines are objects (src/log.ts), one per event.
 */

type Line = Record<string, unknown>;
let calls: unknown[][] = [];

beforeEach(() => {
  calls = [];
  for (const level of ['log', 'warn', 'error'] as const) {
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void calls.push(args));
  }
});
afterEach(() => vi.restoreAllMocks());

const lines = (event: string): Line[] =>
  calls.flat().filter((arg): arg is Line => typeof arg === 'object' && arg !== null && (arg as Line).event === event);
const requestLine = (requestId: string): Line | undefined => lines('request').find((l) => l.request_id === requestId);

describe('one request line per request', () => {
  it('names the route as the document does, never the ids in the path, with the account, status and latency', async () => {
    const { accountId, auth } = await customer();
    const res = await api('/api/v1/tasks/task_0000000000000000000000', { headers: { ...auth, 'x-request-id': 'rl-test-1' } });
    expect(res.status).toBe(404);
    const line = requestLine('rl-test-1');
    expect(line).toMatchObject({
      level: 'info',
      account_id: accountId,
      route: '/api/v1/tasks/{task_id}',
      method: 'GET',
      status: 404,
      error_code: 'not_found',
    });
    expect(line!.latency_ms).toEqual(expect.any(Number));
    expect(new Date(line!.time as string).toISOString()).toBe(line!.time);
    expect(JSON.stringify(line)).not.toContain('task_0000000000000000000000');
  });

  it('names the route a middleware refused in front of, and no account without a valid key', async () => {
    const res = await api('/api/v1/billing/credits', { headers: { 'x-request-id': 'rl-test-2' } });
    expect(res.status).toBe(401);
    expect(requestLine('rl-test-2')).toMatchObject({ account_id: null, route: '/api/v1/billing/credits', status: 401, error_code: 'unauthorized' });
  });

  it('has no route for a path no route matches', async () => {
    await api('/api/v1/nothing/here', { headers: { 'x-request-id': 'rl-test-3' } });
    expect(requestLine('rl-test-3')).toMatchObject({ route: null, status: 404, method: 'GET' });
  });

  it('logs internal routes too, by their pattern', async () => {
    const id = newAccountId();
    await api(`/internal/v1/accounts/${id}/credits`, { headers: { ...INTERNAL, 'x-request-id': 'rl-test-4' } });
    const line = requestLine('rl-test-4');
    expect(line).toMatchObject({ route: '/internal/v1/accounts/{account_id}/credits', status: 200 });
    expect(JSON.stringify(line)).not.toContain(id);
  });
});

describe('one transition line per task status change', () => {
  it('follows a task from pending to succeeded: model, provider, node, attempt and latencies', async () => {
    const { accountId, auth } = await customer(undefined, 100);
    const created = await createTask(auth, { model: 'flux-2', prompt: 'A lighthouse the log follows' });
    const { task_id } = await created.json<{ task_id: string }>();
    await waitForTask(auth, task_id);
    const moves = await eventually(async () => {
      const found = lines('task_transition').filter((l) => l.task_id === task_id);
      return found.some((l) => l.to === 'succeeded') ? found : undefined;
    });
    expect(moves.map((l) => [l.from, l.to])).toEqual([
      ['pending', 'processing'],
      ['processing', 'succeeded'],
    ]);
    for (const move of moves) {
      expect(move).toMatchObject({ level: 'info', account_id: accountId, model: 'flux-2', provider: 'bfl', attempt: 1, node_index: 0 });
      expect(move.node).toEqual(expect.any(String));
      expect(move.since_previous_ms).toEqual(expect.any(Number));
      expect(move.since_created_ms as number).toBeGreaterThanOrEqual(move.since_previous_ms as number);
    }
  });

  it('says why a task failed, by its error code', async () => {
    const { auth } = await customer(undefined, 100);
    const created = await createTask(auth, { model: 'flux-2', prompt: '[sim:fail] a lighthouse that fails' });
    const { task_id } = await created.json<{ task_id: string }>();
    const task = await waitForTask(auth, task_id);
    const failed = await eventually(async () => lines('task_transition').find((l) => l.task_id === task_id && l.to === 'failed'));
    expect(failed).toMatchObject({ from: 'processing', error_code: task.error!.code });
  });
});

describe('the customer’s secrets', () => {
  it('never appear in full: not the API key, not the prompt, through successes, retries, failures and refusals', async () => {
    const { auth } = await customer(undefined, 100);
    const key = auth.authorization!.replace('Bearer ', '');
    const prompt = 'A very private prompt about a red lighthouse 7f3a9c';
    const tasks = await Promise.all(
      [prompt, `${prompt} [sim:http=500x2]`, `${prompt} [sim:fail]`].map(async (p) => {
        const res = await createTask(auth, { model: 'flux-2', prompt: p });
        return (await res.json<{ task_id: string }>()).task_id;
      }),
    );
    for (const id of tasks) await waitForTask(auth, id);
    await createTask(auth, { model: 'flux-2', prompt, resolution: '8K' });
    await api('/api/v1/billing/credits', { headers: { authorization: `Bearer ${key.slice(0, -1)}X` } });
    // The retried task logged its failed submits: the lines of interest were written.
    await eventually(async () => (lines('task_step_failed').length > 0 ? true : undefined));
    const written = JSON.stringify(calls);
    expect(written).toContain('task_transition');
    expect(written).not.toContain(key);
    expect(written).not.toContain(key.slice(0, -1));
    expect(written).not.toContain(prompt);
  });
});
