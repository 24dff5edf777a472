import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { customer } from '../helpers';
import { firstJsonRequest, uniquePrompt } from '../simulator-fixtures';
import { expectRejected, expectStoredPngs, runTask, runToRefundedFailure, settledBalance } from './model-harness';

const PRICE = 6;
const PATH = '/api/v3/kwaivgi/kling-image-o1';

describe('kling-image-o1', () => {
  it('makes n images from text and reference images at 2K, charging 6 credits per image', async () => {
    const { auth } = await customer(undefined, 100);
    const text = uniquePrompt('The robot from image 1 in the city of image 2, cinematic');
    const urls = ['https://images.example.com/robot.png', 'https://images.example.com/city.jpg'];
    const { credits, task } = await runTask(auth, { model: 'kling-image-o1', prompt: text, aspect_ratio: '16:9', resolution: '2K', n: 2, input_urls: urls });
    expect(credits).toBe(2 * PRICE);
    expect(task).toMatchObject({ status: 'succeeded', credits: 2 * PRICE, provider: 'wavespeed', node: 'node49' });
    expect(task.output!.images).toHaveLength(2);
    await expectStoredPngs(task);
    for (const image of task.output!.images) {
      expect(image.width / image.height).toBeCloseTo(16 / 9, 1);
      expect(image.width).toBeGreaterThan(2048);
    }

    const sent = await firstJsonRequest(PATH, text);
    expect(sent.headers.authorization).toBe(`Bearer ${env.WAVESPEED_API_KEY}`);
    expect(sent.body).toEqual({ prompt: text, aspect_ratio: '16:9', resolution: '2k', num_images: 2, images: urls });
    expect(await settledBalance(auth)).toBe(100 - 2 * PRICE);
  });

  it('defaults to one 1:1 image at 1K from text alone', async () => {
    const { auth } = await customer(undefined, 100);
    const text = uniquePrompt('A ceramic teapot on linen');
    const { credits, task } = await runTask(auth, { model: 'kling-image-o1', prompt: text });
    expect(credits).toBe(PRICE);
    expect(task.input).toEqual({ prompt: text, aspect_ratio: '1:1', resolution: '1K', n: 1 });
    expect(task.output!.images).toHaveLength(1);
    expect(task.output!.images[0]).toMatchObject({ width: 1024, height: 1024 });
    expect((await firstJsonRequest(PATH, text)).body).toEqual({ prompt: text, aspect_ratio: '1:1', resolution: '1k', num_images: 1 });
    expect(await settledBalance(auth)).toBe(100 - PRICE);
  });

  it.each([
    ['prompt over 2500 characters', { prompt: 'x'.repeat(2501) }, 'prompt'],
    ['unsupported aspect_ratio', { aspect_ratio: '5:4' }, 'aspect_ratio'],
    ['4K resolution', { resolution: '4K' }, 'resolution'],
    ['n of 0', { n: 0 }, 'n'],
    ['n over 9', { n: 10 }, 'n'],
    ['n not an integer', { n: 1.5 }, 'n'],
    ['n as a string', { n: '2' }, 'n'],
    ['more than 10 input_urls', { input_urls: Array.from({ length: 11 }, (_, i) => `https://images.example.com/${i}.png`) }, 'input_urls'],
    ['an input_url that is not http(s)', { input_urls: ['ftp://images.example.com/a.png'] }, 'input_urls.0'],
  ])('answers 400 naming the field for %s, charging nothing', async (_name, fields, field) => {
    await expectRejected({ model: 'kling-image-o1', prompt: 'A teapot', ...fields }, field);
  });

  it.each([
    ['a refused prompt', '[sim:moderate]', 'content_moderated'],
    ['outputs flagged NSFW', '[sim:moderate-output]', 'content_moderated'],
    ['a failed prediction', '[sim:fail]', 'provider_error'],
  ])('fails %s with %s and refunds every image', async (_name, directive, code) => {
    const { credits } = await runToRefundedFailure({ model: 'kling-image-o1', prompt: uniquePrompt(`A teapot ${directive}`), n: 3 }, code);
    expect(credits).toBe(3 * PRICE);
  });
});
