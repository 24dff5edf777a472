import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { customer } from '../helpers';
import { firstJsonRequest, uniquePrompt } from '../simulator-fixtures';
import { expectRejected, expectStoredPngs, runTask, runToRefundedFailure, settledBalance } from './model-harness';

const PRICE = 5;
const PATH = '/v1/images/generations';

describe('grok-imagine', () => {
  it('makes n images on xAI in the ratio and resolution asked, charging 5 credits per image', async () => {
    const { auth } = await customer(undefined, 100);
    const text = uniquePrompt('A retro-futurist train crossing a desert at sunset');
    const { credits, task } = await runTask(auth, { model: 'grok-imagine', prompt: text, aspect_ratio: '16:9', resolution: '2K', n: 3 });
    expect(credits).toBe(3 * PRICE);
    expect(task).toMatchObject({ status: 'succeeded', credits: 3 * PRICE, provider: 'xai', node: 'node31' });
    expect(task.output!.images).toHaveLength(3);
    await expectStoredPngs(task);
    for (const image of task.output!.images) {
      expect(image.width / image.height).toBeCloseTo(16 / 9, 1);
      expect(image.width).toBeGreaterThan(2048);
    }

    const sent = await firstJsonRequest(PATH, text);
    expect(sent.headers.authorization).toBe(`Bearer ${env.XAI_API_KEY}`);
    expect(sent.body).toEqual({ model: 'grok-imagine-image', prompt: text, n: 3, aspect_ratio: '16:9', resolution: '2k', response_format: 'url' });
    expect(await settledBalance(auth)).toBe(100 - 3 * PRICE);
  });

  it('defaults to one 1:1 image at 1K', async () => {
    const { auth } = await customer(undefined, 100);
    const text = uniquePrompt('A lemon on a blue plate');
    const { credits, task } = await runTask(auth, { model: 'grok-imagine', prompt: text });
    expect(credits).toBe(PRICE);
    expect(task.input).toEqual({ prompt: text, aspect_ratio: '1:1', resolution: '1K', n: 1 });
    expect(task.output!.images).toHaveLength(1);
    expect(task.output!.images[0]).toMatchObject({ width: 1024, height: 1024 });
    expect(await settledBalance(auth)).toBe(100 - PRICE);
  });

  it.each([
    ['empty prompt', { prompt: '' }, 'prompt'],
    ['unsupported aspect_ratio', { aspect_ratio: '5:4' }, 'aspect_ratio'],
    ['lower-case resolution', { resolution: '2k' }, 'resolution'],
    ['n over 10', { n: 11 }, 'n'],
    ['input_urls (text only)', { input_urls: ['https://images.example.com/a.png'] }, 'input_urls'],
    ['OpenAI size', { size: '1024x1024' }, 'size'],
  ])('answers 400 naming the field for %s, charging nothing', async (_name, fields, field) => {
    await expectRejected({ model: 'grok-imagine', prompt: 'A lemon', ...fields }, field);
  });

  it.each([
    ['a prompt xAI blocks', '[sim:moderate]', 'content_moderated'],
    ['images xAI filters', '[sim:moderate-output]', 'content_moderated'],
    ['an xAI team out of credit (a 429)', '[sim:nocredit]', 'provider_unavailable'],
    ['a request xAI refuses', '[sim:http=422]', 'provider_error'],
  ])('fails %s with %s and refunds every image', async (_name, directive, code) => {
    const { credits } = await runToRefundedFailure({ model: 'grok-imagine', prompt: uniquePrompt(`A lemon ${directive}`), n: 2 }, code);
    expect(credits).toBe(2 * PRICE);
  });

  it('waits out an xAI rate limit and then succeeds', async () => {
    const { auth } = await customer(undefined, 100);
    const { task } = await runTask(auth, { model: 'grok-imagine', prompt: uniquePrompt('A lemon [sim:http=429x1]') });
    expect(task.status).toBe('succeeded');
    expect(await settledBalance(auth)).toBe(100 - PRICE);
  });
});
