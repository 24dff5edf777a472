import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { RECRAFT_V4_SIZES } from '../../src/catalog/recraft-v4';
import { customer } from '../helpers';
import { firstJsonRequest, uniquePrompt } from '../simulator-fixtures';
import { expectRejected, expectStoredPngs, runTask, runToRefundedFailure, settledBalance } from './model-harness';

const PRICE = 10;
const PATH = '/v1/images/generations';

describe('recraft-v4', () => {
  it('makes n images on Recraft at the V4 size of the ratio, charging 10 credits per image', async () => {
    const { auth } = await customer(undefined, 100);
    const text = uniquePrompt('A flat vector-style poster of a lighthouse, bold shapes');
    const { credits, task } = await runTask(auth, { model: 'recraft-v4', prompt: text, aspect_ratio: '16:9', n: 2 });
    expect(credits).toBe(2 * PRICE);
    expect(task).toMatchObject({ status: 'succeeded', input: { prompt: text, aspect_ratio: '16:9', n: 2 }, credits: 2 * PRICE, provider: 'recraft', node: 'node78' });
    expect(task.output!.images).toHaveLength(2);
    await expectStoredPngs(task, { width: 1344, height: 768 });

    const sent = await firstJsonRequest(PATH, text);
    expect(sent.headers.authorization).toBe(`Bearer ${env.RECRAFT_API_KEY}`);
    expect(sent.body).toEqual({ model: 'recraftv4', prompt: text, n: 2, size: '1344x768', response_format: 'url' });
    expect(await settledBalance(auth)).toBe(100 - 2 * PRICE);
  });

  it('defaults to one 1:1 image at 1024×1024', async () => {
    const { auth } = await customer(undefined, 100);
    const text = uniquePrompt('An isometric cozy reading nook');
    const { credits, task } = await runTask(auth, { model: 'recraft-v4', prompt: text });
    expect(credits).toBe(PRICE);
    expect(task.input).toEqual({ prompt: text, aspect_ratio: '1:1', n: 1 });
    expect(task.output!.images[0]).toMatchObject({ width: 1024, height: 1024 });
    expect(await settledBalance(auth)).toBe(100 - PRICE);
  });

  it.each(Object.entries(RECRAFT_V4_SIZES))('sends %s as a size Recraft V4 accepts', async (ratio, [width, height]) => {
    const { auth } = await customer(undefined, 100);
    const { task } = await runTask(auth, { model: 'recraft-v4', prompt: uniquePrompt('A paper crane'), aspect_ratio: ratio });
    expect(task.status).toBe('succeeded');
    expect(task.output!.images[0]).toMatchObject({ width, height });
  });

  it.each([
    ['empty prompt', { prompt: '' }, 'prompt'],
    ['prompt over 10000 characters', { prompt: 'x'.repeat(10_001) }, 'prompt'],
    ['unsupported aspect_ratio', { aspect_ratio: '21:9' }, 'aspect_ratio'],
    ['n over 6', { n: 7 }, 'n'],
    ['style (V3 only)', { style: 'digital_illustration' }, 'style'],
    ['input_urls (text only)', { input_urls: ['https://images.example.com/a.png'] }, 'input_urls'],
  ])('answers 400 naming the field for %s, charging nothing', async (_name, fields, field) => {
    await expectRejected({ model: 'recraft-v4', prompt: 'A paper crane', ...fields }, field);
  });

  it.each([
    ['a prompt Recraft refuses', '[sim:moderate]', 'content_moderated'],
    ['images Recraft leaves out of its answer', '[sim:moderate-output]', 'content_moderated'],
    ['a Recraft account out of API units', '[sim:nocredit]', 'provider_unavailable'],
    ['a request Recraft refuses (text/plain 400)', '[sim:http=400]', 'provider_error'],
  ])('fails %s with %s and refunds in full', async (_name, directive, code) => {
    const { credits } = await runToRefundedFailure({ model: 'recraft-v4', prompt: uniquePrompt(`A paper crane ${directive}`), n: 3 }, code);
    expect(credits).toBe(3 * PRICE);
  });
});
