import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { customer } from '../helpers';
import { firstJsonRequest, uniquePrompt } from '../simulator-fixtures';
import { expectRejected, expectStoredPngs, runTask, runToRefundedFailure, settledBalance } from './model-harness';

const MODEL = 'imagen-4';

describe('imagen-4', () => {
  it.each([
    ['16:9', '1K', 1408, 768],
    ['3:4', '1K', 896, 1280],
    ['1:1', '2K', 2048, 2048],
  ])('makes %s at %s as a %ix%i PNG', async (aspect_ratio, resolution, width, height) => {
    const { auth } = await customer(undefined, 100);
    const prompt = uniquePrompt('a koi pond in autumn');
    const { credits, task } = await runTask(auth, { model: MODEL, prompt, aspect_ratio, resolution });
    expect(credits).toBe(8);
    expect(task).toMatchObject({ status: 'succeeded', credits: 8, provider: 'imagen', node: 'node47', error: null });
    expect(task.output!.images).toHaveLength(1);
    await expectStoredPngs(task, { width, height });
    expect(await settledBalance(auth)).toBe(92);
  });

  it('makes n images, charges 8 credits each and asks Imagen for exactly n', async () => {
    const { auth } = await customer(undefined, 100);
    const prompt = uniquePrompt('a paper crane');
    const { credits, task } = await runTask(auth, { model: MODEL, prompt, n: 3, person_generation: 'dont_allow' });
    expect(credits).toBe(24);
    expect(task.status).toBe('succeeded');
    expect(task.output!.images).toHaveLength(3);
    expect(await settledBalance(auth)).toBe(76);
    const sent = await firstJsonRequest(':predict', prompt);
    expect(sent.path).toBe('/v1beta/models/imagen-4.0-generate-001:predict');
    expect(sent.headers['x-goog-api-key']).toBe(env.GEMINI_API_KEY);
    expect(sent.body).toMatchObject({ instances: [{ prompt }], parameters: { sampleCount: 3, personGeneration: 'dont_allow' } });
  });

  it('applies the defaults: 1:1, 1K, allow_adult, one image', async () => {
    const { auth } = await customer(undefined, 100);
    const prompt = uniquePrompt('a koi pond');
    const { task } = await runTask(auth, { model: MODEL, prompt });
    expect(task.input).toEqual({ prompt, aspect_ratio: '1:1', resolution: '1K', person_generation: 'allow_adult', n: 1 });
    expect(task.output!.images[0]).toMatchObject({ width: 1024, height: 1024 });
  });

  it.each([
    ['aspect ratio 3:2 (Imagen has none)', 'aspect_ratio', { aspect_ratio: '3:2' }],
    ['resolution 4K', 'resolution', { resolution: '4K' }],
    ['n of 5', 'n', { n: 5 }],
    ['person_generation everyone', 'person_generation', { person_generation: 'everyone' }],
    ['prompt over 1920 characters', 'prompt', { prompt: 'x'.repeat(1921) }],
    ['input_urls (text only)', 'input_urls', { input_urls: ['https://example.com/a.png'] }],
  ])('rejects %s with a 400 naming the field', async (_label, param, fields) => {
    await expectRejected({ model: MODEL, prompt: 'a koi pond', ...fields }, param);
  });

  it.each([
    ['a blocked prompt', '[sim:moderate]', 'content_moderated'],
    ['images filtered after generation', '[sim:moderate-output]', 'content_moderated'],
    ['an unbilled Google project', '[sim:nocredit]', 'provider_unavailable'],
    ['a provider 4xx', '[sim:http=400]', 'provider_error'],
    // Google disabled Imagen on the Gemini API in 2026-08: the answer it now gives is our trouble, refunded.
    ['the route Google disabled', '[sim:gone]', 'provider_unavailable'],
    ['a provider that keeps failing', '[sim:fail]', 'provider_unavailable'],
  ])('ends %s as failed with the right code and every credit refunded', async (_label, directive, code) => {
    const { credits } = await runToRefundedFailure({ model: MODEL, prompt: uniquePrompt(`a koi pond ${directive}`), n: 2 }, code);
    expect(credits).toBe(16);
  });
});
