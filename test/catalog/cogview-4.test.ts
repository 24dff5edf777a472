import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { COGVIEW_4_SIZES } from '../../src/catalog/cogview-4';
import { customer } from '../helpers';
import { firstJsonRequest, uniquePrompt } from '../simulator-fixtures';
import { expectRejected, expectStoredPngs, runTask, runToRefundedFailure, settledBalance } from './model-harness';

const PRICE = 4;
const PATH = '/api/v3/z-ai/cogview-4';

describe('cogview-4', () => {
  it('runs on WaveSpeed to a stored PNG of the size the ratio names, charging 4 credits', async () => {
    const { auth } = await customer(undefined, 100);
    const text = uniquePrompt('A neon sign that reads 你好 in a rainy alley');
    const { credits, task } = await runTask(auth, { model: 'cogview-4', prompt: text, aspect_ratio: '16:9', quality: 'standard' });
    expect(credits).toBe(PRICE);
    expect(task).toMatchObject({
      status: 'succeeded',
      input: { prompt: text, aspect_ratio: '16:9', quality: 'standard' },
      credits: PRICE,
      provider: 'wavespeed',
      node: 'node48',
    });
    expect(task.output!.images).toHaveLength(1);
    await expectStoredPngs(task, { width: 1344, height: 768 });

    const sent = await firstJsonRequest(PATH, text);
    expect(sent.headers.authorization).toBe(`Bearer ${env.WAVESPEED_API_KEY}`);
    expect(sent.body).toEqual({ prompt: text, size: '1344*768', quality: 'standard' });
    expect(await settledBalance(auth)).toBe(100 - PRICE);
  });

  it('defaults to 1:1 in hd', async () => {
    const { auth } = await customer(undefined, 100);
    const text = uniquePrompt('A bowl of ramen, top view');
    const { task } = await runTask(auth, { model: 'cogview-4', prompt: text });
    expect(task.input).toEqual({ prompt: text, aspect_ratio: '1:1', quality: 'hd' });
    expect(task.output!.images[0]).toMatchObject({ width: 1024, height: 1024 });
    expect((await firstJsonRequest(PATH, text)).body).toMatchObject({ size: '1024*1024', quality: 'hd' });
  });

  it.each(Object.entries(COGVIEW_4_SIZES))('sends %s as one of the sizes CogView-4 accepts', async (ratio, [width, height]) => {
    const { auth } = await customer(undefined, 100);
    const { task } = await runTask(auth, { model: 'cogview-4', prompt: uniquePrompt('A kite'), aspect_ratio: ratio });
    expect(task.status).toBe('succeeded');
    expect(task.output!.images[0]).toMatchObject({ width, height });
  });

  it.each([
    ['empty prompt', { prompt: '' }, 'prompt'],
    ['prompt over 1000 characters', { prompt: 'x'.repeat(1001) }, 'prompt'],
    ['unsupported aspect_ratio', { aspect_ratio: '3:2' }, 'aspect_ratio'],
    ['unknown quality', { quality: 'ultra' }, 'quality'],
    ['input_urls (text only)', { input_urls: ['https://images.example.com/a.png'] }, 'input_urls'],
    ['n (one image per task)', { n: 2 }, 'n'],
  ])('answers 400 naming the field for %s, charging nothing', async (_name, fields, field) => {
    await expectRejected({ model: 'cogview-4', prompt: 'A kite', ...fields }, field);
  });

  it.each([
    ['a refused prompt', '[sim:moderate]', 'content_moderated'],
    ['an output flagged NSFW', '[sim:moderate-output]', 'content_moderated'],
    ['a failed prediction', '[sim:fail]', 'provider_error'],
    ['a prediction WaveSpeed cancelled', '[sim:status=cancelled]', 'provider_error'],
    ['a prediction WaveSpeed timed out', '[sim:status=timeout]', 'provider_error'],
    ['an out-of-credit WaveSpeed account', '[sim:nocredit]', 'provider_unavailable'],
  ])('fails %s with %s and refunds in full', async (_name, directive, code) => {
    await runToRefundedFailure({ model: 'cogview-4', prompt: uniquePrompt(`A kite ${directive}`) }, code);
  });
});
