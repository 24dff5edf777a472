import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { customer } from '../helpers';
import { hostedPng, simulatorRequests, uniquePrompt } from '../simulator-fixtures';
import { expectRejected, expectStoredPngs, runTask, runToRefundedFailure, settledBalance } from './model-harness';

const MODEL = 'ideogram-v3';

/** The multipart bodies the simulator received for this prompt (binary parts garbled, text intact). */
async function sentBodies(prompt: string): Promise<string[]> {
  return (await simulatorRequests('/v1/ideogram-v3/generate', prompt)).map((r) => r.body);
}

/** A text field as it stands in a multipart body. */
const field = (name: string, value: string) => `name="${name}"\r\n\r\n${value}\r\n`;

describe('ideogram-v3', () => {
  it('makes n images at the ratio size, stored as real PNGs, and charges 8 credits each', async () => {
    const { auth } = await customer(undefined, 100);
    const prompt = uniquePrompt('a neon sign saying OPEN');
    const { credits, task } = await runTask(auth, { model: MODEL, prompt, aspect_ratio: '16:9', rendering_speed: 'TURBO', n: 2 });
    expect(credits).toBe(16);
    expect(task).toMatchObject({ status: 'succeeded', credits: 16, provider: 'ideogram', node: 'node63', error: null });
    expect(task.output!.images).toHaveLength(2);
    await expectStoredPngs(task, { width: 1312, height: 736 });
    expect(await settledBalance(auth)).toBe(84);
    const [body] = await sentBodies(prompt);
    expect(body).toContain(field('aspect_ratio', '16x9'));
    expect(body).toContain(field('rendering_speed', 'TURBO'));
    expect(body).toContain(field('num_images', '2'));
  });

  it('applies the defaults: 1:1, DEFAULT speed, magic prompt AUTO, GENERAL style, one image', async () => {
    const { auth } = await customer(undefined, 100);
    const prompt = uniquePrompt('a poster');
    const { credits, task } = await runTask(auth, { model: MODEL, prompt });
    expect(credits).toBe(8);
    expect(task.input).toEqual({ prompt, aspect_ratio: '1:1', rendering_speed: 'DEFAULT', magic_prompt: 'AUTO', style_type: 'GENERAL', n: 1 });
    expect(task.output!.images[0]).toMatchObject({ width: 1024, height: 1024 });
  });

  it('uploads style reference images as files', async () => {
    const { auth } = await customer(undefined, 100);
    const prompt = uniquePrompt('a logo in this style');
    const { task } = await runTask(auth, { model: MODEL, prompt, input_urls: [await hostedPng(), await hostedPng()] });
    expect(task.status).toBe('succeeded');
    const [body] = await sentBodies(prompt);
    expect(body!.match(/name="style_reference_images"; filename="reference-\d\.png"/g)).toHaveLength(2);
  });

  it('fails invalid_input_image with a refund when a reference cannot be downloaded', async () => {
    const prompt = uniquePrompt('a logo');
    const { task } = await runToRefundedFailure({ model: MODEL, prompt, input_urls: [`${env.SIMULATOR_URL}/__sim/files/0000.png`] }, 'invalid_input_image');
    expect(task.error!.message).toMatch(/input_urls\.0/);
    expect(await sentBodies(prompt)).toHaveLength(0);
  });

  it.each([
    ['a ratio spelt the Ideogram way', 'aspect_ratio', { aspect_ratio: '16x9' }],
    ['an unknown ratio', 'aspect_ratio', { aspect_ratio: '7:3' }],
    ['rendering_speed FAST', 'rendering_speed', { rendering_speed: 'FAST' }],
    ['magic_prompt YES', 'magic_prompt', { magic_prompt: 'YES' }],
    ['style_type ANIME', 'style_type', { style_type: 'ANIME' }],
    ['n of 9', 'n', { n: 9 }],
    ['a negative seed', 'seed', { seed: -1 }],
    ['a seed above 2^31-1', 'seed', { seed: 2147483648 }],
    ['an empty negative_prompt', 'negative_prompt', { negative_prompt: '' }],
    ['4 reference images', 'input_urls', { input_urls: ['a', 'b', 'c', 'd'].map((x) => `https://example.com/${x}.png`) }],
    ['a prompt over 5000 characters', 'prompt', { prompt: 'x'.repeat(5001) }],
  ])('rejects %s with a 400 naming the field', async (_label, param, fields) => {
    await expectRejected({ model: MODEL, prompt: 'a poster', ...fields }, param);
  });

  it.each([
    ['a prompt failing the safety check (422)', '[sim:moderate]', 'content_moderated'],
    ['images flagged is_image_safe=false', '[sim:moderate-output]', 'content_moderated'],
    ['an empty Ideogram balance', '[sim:nocredit]', 'provider_unavailable'],
    ['a provider 400', '[sim:http=400]', 'provider_error'],
  ])('ends %s as failed with the right code and every credit refunded', async (_label, directive, code) => {
    const { credits } = await runToRefundedFailure({ model: MODEL, prompt: uniquePrompt(`a poster ${directive}`), n: 3 }, code);
    expect(credits).toBe(24);
  });
});
