import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { HUNYUAN_IMAGE_3_SIZES } from '../../src/catalog/hunyuan-image-3';
import { customer } from '../helpers';
import { simulatorRequests, uniquePrompt } from '../simulator-fixtures';
import { expectRejected, expectStoredPngs, runTask, runToRefundedFailure, settledBalance } from './model-harness';

const PRICE = 25;
const TEXT_PATH = '/api/v3/wavespeed-ai/hunyuan-image-3';
const EDIT_PATH = '/api/v3/wavespeed-ai/hunyuan-image-3-instruct/edit';

/**
 * The requests the simulator received for this prompt on either endpoint (TEXT_PATH is a prefix of
 * EDIT_PATH, and the simulator's filter matches substrings), so a test can check which one was used.
 */
async function sentFor(text: string): Promise<{ path: string; headers: Record<string, string>; body: Record<string, unknown> }[]> {
  const recorded = await simulatorRequests(TEXT_PATH, text);
  return recorded.map((r) => ({ ...r, body: JSON.parse(r.body) as Record<string, unknown> }));
}

describe('hunyuan-image-3', () => {
  it('runs text-to-image on HunyuanImage 3.0 at the size of the ratio, charging 25 credits', async () => {
    const { auth } = await customer(undefined, 100);
    const text = uniquePrompt('An ink-wash painting of a crane over misty mountains');
    const { credits, task } = await runTask(auth, { model: 'hunyuan-image-3', prompt: text, aspect_ratio: '16:9' });
    expect(credits).toBe(PRICE);
    expect(task).toMatchObject({ status: 'succeeded', input: { prompt: text, aspect_ratio: '16:9' }, credits: PRICE, provider: 'wavespeed', node: 'node68' });
    expect(task.output!.images).toHaveLength(1);
    await expectStoredPngs(task, { width: 1280, height: 720 });

    const sent = await sentFor(text);
    expect(sent.map((r) => r.path)).toEqual([TEXT_PATH]);
    expect(sent[0]!.headers.authorization).toBe(`Bearer ${env.WAVESPEED_API_KEY}`);
    expect(sent[0]!.body).toEqual({ prompt: text, size: '1280*720' });
    expect(await settledBalance(auth)).toBe(100 - PRICE);
  });

  it('sends reference images to the Instruct edit endpoint as images, the ratio as size and the pixels as width and height', async () => {
    const { auth } = await customer(undefined, 100);
    const text = uniquePrompt('Put the cat from image 1 on the sofa from image 2');
    const urls = ['https://images.example.com/cat.png', 'https://images.example.com/sofa.png'];
    const { credits, task } = await runTask(auth, { model: 'hunyuan-image-3', prompt: text, aspect_ratio: '3:4', input_urls: urls });
    expect(credits).toBe(PRICE);
    expect(task.status).toBe('succeeded');
    const [width, height] = HUNYUAN_IMAGE_3_SIZES['3:4'];
    await expectStoredPngs(task, { width, height });

    const sent = await sentFor(text);
    expect(sent.map((r) => r.path)).toEqual([EDIT_PATH]);
    // WaveSpeed documents the edit's `size` as a preset ratio, the pixels as width/height (default 256).
    expect(sent[0]!.body).toEqual({ prompt: text, images: urls, size: '3:4', width, height });
    expect(await settledBalance(auth)).toBe(100 - PRICE);
  });

  it('defaults to 1:1 at 1024×1024', async () => {
    const { auth } = await customer(undefined, 100);
    const text = uniquePrompt('A red bicycle');
    const { task } = await runTask(auth, { model: 'hunyuan-image-3', prompt: text });
    expect(task.input).toEqual({ prompt: text, aspect_ratio: '1:1' });
    expect(task.output!.images[0]).toMatchObject({ width: 1024, height: 1024 });
  });

  it.each([
    ['prompt over 4000 characters', { prompt: 'x'.repeat(4001) }, 'prompt'],
    ['unsupported aspect_ratio', { aspect_ratio: '21:9' }, 'aspect_ratio'],
    ['more than 2 input_urls', { input_urls: ['a', 'b', 'c'].map((n) => `https://images.example.com/${n}.png`) }, 'input_urls'],
    ['n (one image per task)', { n: 2 }, 'n'],
    ['resolution (not a choice here)', { resolution: '2K' }, 'resolution'],
  ])('answers 400 naming the field for %s, charging nothing', async (_name, fields, field) => {
    await expectRejected({ model: 'hunyuan-image-3', prompt: 'A red bicycle', ...fields }, field);
  });

  it.each([
    ['an output flagged NSFW', '[sim:moderate-output]', 'content_moderated'],
    ['a refused edit', '[sim:moderate]', 'content_moderated'],
    ['an out-of-credit WaveSpeed account', '[sim:nocredit]', 'provider_unavailable'],
  ])('fails %s with %s and refunds in full', async (_name, directive, code) => {
    const body = { model: 'hunyuan-image-3', prompt: uniquePrompt(`A red bicycle ${directive}`), input_urls: ['https://images.example.com/bike.png'] };
    await runToRefundedFailure(body, code);
  });
});
