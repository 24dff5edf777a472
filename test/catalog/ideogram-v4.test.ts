import { describe, expect, it } from 'vitest';
import { customer } from '../helpers';
import { simulatorRequests, uniquePrompt } from '../simulator-fixtures';
import { expectRejected, expectStoredPngs, runTask, runToRefundedFailure, settledBalance } from './model-harness';

const MODEL = 'ideogram-v4';
const SYNC = '/v1/ideogram-v4/generate';
const ASYNC = '/v1/ideogram-v4/async/generate';

/** How many requests for this prompt the simulator received on exactly `path`. */
async function requestsTo(path: string, prompt: string): Promise<number> {
  return (await simulatorRequests(path, prompt)).filter((r) => r.path === path).length;
}

describe('ideogram-v4', () => {
  it('runs on node63 (sync) at the 2K size of the ratio and charges 12 credits', async () => {
    const { auth } = await customer(undefined, 100);
    const prompt = uniquePrompt('a poster saying HELLO');
    const { credits, task } = await runTask(auth, { model: MODEL, prompt, aspect_ratio: '16:9', rendering_speed: 'TURBO' });
    expect(credits).toBe(12);
    expect(task).toMatchObject({ status: 'succeeded', credits: 12, provider: 'ideogram', node: 'node63', error: null });
    expect(task.input).toEqual({ prompt, aspect_ratio: '16:9', rendering_speed: 'TURBO' });
    expect(task.output!.images).toHaveLength(1);
    await expectStoredPngs(task, { width: 2560, height: 1440 });
    expect(await settledBalance(auth)).toBe(88);
    expect(await requestsTo(SYNC, prompt)).toBe(1);
    expect(await requestsTo(ASYNC, prompt)).toBe(0);
  });

  it('moves to node30 (async, polled) after node63 fails three times, and records node30', async () => {
    const { auth } = await customer(undefined, 100);
    // The 503s hit only the sync endpoint (node63); the async one (node30) sees a clean prompt.
    const prompt = uniquePrompt('a poster saying FAILOVER [sim:http=503][sim:only=ideogram_v4_sync]');
    const { credits, task } = await runTask(auth, { model: MODEL, prompt, aspect_ratio: '3:2' });
    expect(credits).toBe(12);
    expect(task).toMatchObject({ status: 'succeeded', credits: 12, provider: 'ideogram', node: 'node30' });
    await expectStoredPngs(task, { width: 2496, height: 1664 });
    expect(await requestsTo(SYNC, prompt)).toBe(3);
    expect(await requestsTo(ASYNC, prompt)).toBe(1);
    expect(await settledBalance(auth)).toBe(88);
  });

  it('fails provider_unavailable with a full refund when both nodes keep failing', async () => {
    const prompt = uniquePrompt('a poster [sim:http=503]');
    await runToRefundedFailure({ model: MODEL, prompt }, 'provider_unavailable');
    expect(await requestsTo(SYNC, prompt)).toBe(3);
    expect(await requestsTo(ASYNC, prompt)).toBe(3);
  });

  it('does not fail over on moderation: a 422 from node63 ends the task content_moderated', async () => {
    const prompt = uniquePrompt('a poster [sim:moderate]');
    await runToRefundedFailure({ model: MODEL, prompt }, 'content_moderated');
    expect(await requestsTo(ASYNC, prompt)).toBe(0);
  });

  it.each([
    ['images flagged is_image_safe=false', '[sim:moderate-output]', 'content_moderated'],
    ['an empty Ideogram balance', '[sim:nocredit]', 'provider_unavailable'],
    ['a provider 400', '[sim:http=400]', 'provider_error'],
  ])('ends %s as failed with the right code and every credit refunded', async (_label, directive, code) => {
    await runToRefundedFailure({ model: MODEL, prompt: uniquePrompt(`a poster ${directive}`) }, code);
  });

  it.each([
    ['FLASH (3.0 only)', 'rendering_speed', { rendering_speed: 'FLASH' }],
    ['an unknown ratio', 'aspect_ratio', { aspect_ratio: '7:3' }],
    ['reference images (text only)', 'input_urls', { input_urls: ['https://example.com/a.png'] }],
    ['n (one image per task)', 'n', { n: 2 }],
    ['an empty prompt', 'prompt', { prompt: '' }],
  ])('rejects %s with a 400 naming the field', async (_label, param, fields) => {
    await expectRejected({ model: MODEL, prompt: 'a poster', ...fields }, param);
  });
});
