import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { balance, createTask, customer } from '../helpers';
import { firstJsonRequest, hostedPng, uniquePrompt } from '../simulator-fixtures';
import { expectRejected, expectStoredPngs, runTask, runToRefundedFailure, settledBalance } from './model-harness';

const MODEL = 'gpt-image-1.5-official';

describe('gpt-image-1.5-official', () => {
  it('makes n images of the requested size, stored as real PNGs, and charges 10 credits each', async () => {
    const { auth } = await customer(undefined, 100);
    const prompt = uniquePrompt('a lighthouse at dusk');
    const { credits, task } = await runTask(auth, { model: MODEL, prompt, size: '1536x1024', quality: 'high', n: 2 });
    expect(credits).toBe(20);
    expect(task).toMatchObject({ status: 'succeeded', credits: 20, provider: 'openai', node: 'node42', error: null });
    expect(task.output!.images).toHaveLength(2);
    await expectStoredPngs(task, { width: 1536, height: 1024 });
    expect(await settledBalance(auth)).toBe(80);
    const sent = await firstJsonRequest('/v1/images/generations', prompt);
    expect(sent.headers.authorization).toBe(`Bearer ${env.OPENAI_API_KEY}`);
    expect(sent.body).toMatchObject({ model: 'gpt-image-1.5', n: 2, size: '1536x1024', quality: 'high', output_format: 'png' });
  });

  it('applies the defaults: size auto, quality auto, background auto, one image for 10 credits', async () => {
    const { auth } = await customer(undefined, 100);
    const prompt = uniquePrompt('a teapot');
    const { credits, task } = await runTask(auth, { model: MODEL, prompt });
    expect(credits).toBe(10);
    expect(task.input).toEqual({ prompt, size: 'auto', quality: 'auto', background: 'auto', n: 1 });
    expect(task.status).toBe('succeeded');
    await expectStoredPngs(task);
    expect(await settledBalance(auth)).toBe(90);
  });

  it('edits reference images through /v1/images/edits', async () => {
    const { auth } = await customer(undefined, 100);
    const prompt = uniquePrompt('make it a watercolor');
    const reference = await hostedPng();
    const { task } = await runTask(auth, { model: MODEL, prompt, input_urls: [reference], size: '1024x1024' });
    expect(task).toMatchObject({ status: 'succeeded', node: 'node42' });
    await expectStoredPngs(task, { width: 1024, height: 1024 });
    const sent = await firstJsonRequest('/v1/images/edits', prompt);
    expect(sent.body.images).toEqual([{ image_url: reference }]);
  });

  it.each([
    ['size 512x512', 'size', { size: '512x512' }],
    ['quality ultra', 'quality', { quality: 'ultra' }],
    ['background green', 'background', { background: 'green' }],
    ['n of 11', 'n', { n: 11 }],
    ['fractional n', 'n', { n: 1.5 }],
    ['empty prompt', 'prompt', { prompt: '' }],
    ['prompt over 32000 characters', 'prompt', { prompt: 'x'.repeat(32001) }],
    ['17 input_urls', 'input_urls', { input_urls: Array.from({ length: 17 }, (_, i) => `https://example.com/${i}.png`) }],
    ['ftp input URL', 'input_urls.0', { input_urls: ['ftp://example.com/a.png'] }],
    ['unknown field', 'style', { style: 'vivid' }],
    ['response_format (OpenAI answers base64 only)', 'response_format', { response_format: 'url' }],
  ])('rejects %s with a 400 naming the field', async (_label, param, fields) => {
    await expectRejected({ model: MODEL, prompt: 'a lighthouse', ...fields }, param);
  });

  it('answers 402 and starts nothing when n images cost more than the balance', async () => {
    const { auth } = await customer(undefined, 50);
    const res = await createTask(auth, { model: MODEL, prompt: 'a lighthouse', n: 6 });
    expect(res.status).toBe(402);
    expect(await balance(auth)).toMatchObject({ balance: 50, reserved: 0 });
  });

  it.each([
    ['[sim:moderate]', 'content_moderated'],
    ['[sim:moderate-output]', 'content_moderated'],
    ['[sim:http=400]', 'provider_error'],
    ['[sim:nocredit]', 'provider_unavailable'],
    ['[sim:http=503]', 'provider_unavailable'],
  ])('ends %s as failed %s with every credit refunded', async (directive, code) => {
    const { credits } = await runToRefundedFailure({ model: MODEL, prompt: uniquePrompt(`a lighthouse ${directive}`), n: 3 }, code);
    expect(credits).toBe(30);
  });

  it('fails invalid_input_image with a refund when OpenAI cannot fetch a reference', async () => {
    const body = { model: MODEL, prompt: uniquePrompt('a lighthouse'), input_urls: [`${env.SIMULATOR_URL}/__sim/files/0000.png`] };
    await runToRefundedFailure(body, 'invalid_input_image');
  });
});
