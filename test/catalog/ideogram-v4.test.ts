import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { TaskView } from '../../src/tasks/task.schema';
import { api, balance, createTask, customer, eventually, waitForTask } from '../helpers';
import { pngSize } from '../png';

const MODEL = 'ideogram-v4';
const SYNC = '/v1/ideogram-v4/generate';
const ASYNC = '/v1/ideogram-v4/async/generate';
const uniquePrompt = (text: string) => `${text} ${crypto.randomUUID()}`;

async function run(auth: Record<string, string>, body: Record<string, unknown>): Promise<{ credits: number; task: TaskView }> {
  const res = await createTask(auth, { model: MODEL, ...body });
  expect(res.status).toBe(202);
  const created = await res.json<{ task_id: string; credits: number }>();
  return { credits: created.credits, task: await waitForTask(auth, created.task_id) };
}

/** The size in the stored file's own PNG header. */
async function storedSize(url: string): Promise<{ width: number; height: number }> {
  const file = await api(new URL(url).pathname);
  expect(file.headers.get('content-type')).toBe('image/png');
  return pngSize(new Uint8Array(await file.arrayBuffer()));
}

/** How many requests for this prompt the simulator received on exactly `path`. */
async function requestsTo(path: string, prompt: string): Promise<number> {
  const recorded = await (await fetch(`${env.SIMULATOR_URL}/__sim/requests?path=${path}`)).json<{ path: string; body: string }[]>();
  return recorded.filter((r) => r.path === path && r.body.includes(prompt)).length;
}

const settled = (auth: Record<string, string>, expected: number) =>
  eventually(async () => {
    const now = await balance(auth);
    return now.reserved === 0 && now.balance === expected ? now : undefined;
  });

describe('ideogram-v4', () => {
  it('runs on node63 (sync) at the 2K size of the ratio and charges 12 credits', async () => {
    const { auth } = await customer(undefined, 100);
    const prompt = uniquePrompt('a poster saying HELLO');
    const { credits, task } = await run(auth, { prompt, aspect_ratio: '16:9', rendering_speed: 'TURBO' });
    expect(credits).toBe(12);
    expect(task).toMatchObject({ status: 'succeeded', credits: 12, provider: 'ideogram', node: 'node63', error: null });
    expect(task.input).toEqual({ prompt, aspect_ratio: '16:9', rendering_speed: 'TURBO' });
    expect(task.output!.images).toHaveLength(1);
    expect(task.output!.images[0]).toMatchObject({ width: 2560, height: 1440, content_type: 'image/png' });
    expect(await storedSize(task.output!.images[0]!.url)).toEqual({ width: 2560, height: 1440 });
    await settled(auth, 88);
    expect(await requestsTo(SYNC, prompt)).toBe(1);
    expect(await requestsTo(ASYNC, prompt)).toBe(0);
  });

  it('moves to node30 (async, polled) after node63 fails three times, and records node30', async () => {
    const { auth } = await customer(undefined, 100);
    // The 503s hit only the sync endpoint (node63); the async one (node30) sees a clean prompt.
    const prompt = uniquePrompt('a poster saying FAILOVER [sim:http=503][sim:only=ideogram_v4_sync]');
    const { credits, task } = await run(auth, { prompt, aspect_ratio: '3:2' });
    expect(credits).toBe(12);
    expect(task).toMatchObject({ status: 'succeeded', credits: 12, provider: 'ideogram', node: 'node30' });
    expect(await storedSize(task.output!.images[0]!.url)).toEqual({ width: 2496, height: 1664 });
    expect(await requestsTo(SYNC, prompt)).toBe(3);
    expect(await requestsTo(ASYNC, prompt)).toBe(1);
    await settled(auth, 88);
  });

  it('fails provider_unavailable with a full refund when both nodes keep failing', async () => {
    const { auth } = await customer(undefined, 100);
    const prompt = uniquePrompt('a poster [sim:http=503]');
    const { task } = await run(auth, { prompt });
    expect(task).toMatchObject({ status: 'failed', credits: 0, error: { code: 'provider_unavailable' } });
    expect(await requestsTo(SYNC, prompt)).toBe(3);
    expect(await requestsTo(ASYNC, prompt)).toBe(3);
    await settled(auth, 100);
  });

  it('does not fail over on moderation: a 422 from node63 ends the task content_moderated', async () => {
    const { auth } = await customer(undefined, 100);
    const prompt = uniquePrompt('a poster [sim:moderate]');
    const { task } = await run(auth, { prompt });
    expect(task).toMatchObject({ status: 'failed', credits: 0, error: { code: 'content_moderated' } });
    expect(await requestsTo(ASYNC, prompt)).toBe(0);
    await settled(auth, 100);
  });

  it.each([
    ['images flagged is_image_safe=false', '[sim:moderate-output]', 'content_moderated'],
    ['an empty Ideogram balance', '[sim:nocredit]', 'provider_unavailable'],
    ['a provider 400', '[sim:http=400]', 'provider_error'],
  ])('ends %s as failed with the right code and every credit refunded', async (_label, directive, code) => {
    const { auth } = await customer(undefined, 100);
    const { task } = await run(auth, { prompt: uniquePrompt(`a poster ${directive}`) });
    expect(task).toMatchObject({ status: 'failed', credits: 0, output: null, error: { code } });
    await settled(auth, 100);
  });

  it.each([
    ['FLASH (3.0 only)', 'rendering_speed', { rendering_speed: 'FLASH' }],
    ['an unknown ratio', 'aspect_ratio', { aspect_ratio: '7:3' }],
    ['reference images (text only)', 'input_urls', { input_urls: ['https://example.com/a.png'] }],
    ['n (one image per task)', 'n', { n: 2 }],
    ['an empty prompt', 'prompt', { prompt: '' }],
  ])('rejects %s with a 400 naming the field', async (_label, param, fields) => {
    const { auth } = await customer(undefined, 100);
    const res = await createTask(auth, { model: MODEL, prompt: 'a poster', ...fields });
    expect(res.status).toBe(400);
    const { error } = await res.json<{ error: { code: string; param: string } }>();
    expect(error).toMatchObject({ code: 'invalid_request', param });
    expect(await balance(auth)).toMatchObject({ balance: 100, reserved: 0 });
  });
});
