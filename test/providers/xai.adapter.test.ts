import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { grokImagine } from '../../src/catalog/grok-imagine';
import { submitJob } from '../../src/providers/exchange';
import { xaiAdapter, type XaiJob } from '../../src/providers/xai.adapter';
import { firstJsonRequest, uniquePrompt } from '../simulator-fixtures';
import {
  base64Bytes,
  downloadedPngSize,
  expectSync,
  expectBearerJsonPost,
  expectRetryable,
  failureMessage,
  inlineBytes,
  jsonAnswer,
  KEY_REJECTED,
  onlyRequest,
  OUT_OF_CREDIT,
  recordingCall,
  sentJson,
  succeededImages,
  throughSimulator,
} from './adapter-harness';

const BASE = 'https://api.x.ai';
const KEY = 'xai-test-key';
const job: XaiJob = { model: 'grok-imagine-image', prompt: 'a paper boat on a pond', n: 2, aspect_ratio: '16:9', resolution: '2k' };

/** A call whose fetch records what the adapter sends to xAI and answers with `response`. */
const fake = (response: Response) => recordingCall(response, { env: { XAI_BASE_URL: BASE, XAI_API_KEY: KEY } });

/** xAI's flat error body. */
const failure = (status: number, code: string, error: string, headers: Record<string, string> = {}) => jsonAnswer(status, { code, error }, headers);

describe('xai adapter: the request', () => {
  it('posts /v1/images/generations with a Bearer key, aspect_ratio, resolution and url results', async () => {
    const { call, sent } = fake(Response.json({ data: [{ url: 'https://imgen.x.ai/a.jpeg' }] }));
    await submitJob(xaiAdapter, job, call);
    const request = onlyRequest(sent);
    expectBearerJsonPost(request, `${BASE}/v1/images/generations`, KEY);
    expect(sentJson(request)).toEqual({
      model: 'grok-imagine-image',
      prompt: 'a paper boat on a pond',
      n: 2,
      aspect_ratio: '16:9',
      resolution: '2k',
      response_format: 'url',
    });
  });

  it('is accepted by the simulator, which validates like xAI, and its URLs serve PNGs', async () => {
    const prompt = uniquePrompt('contract run');
    const step = await submitJob(xaiAdapter, { ...job, prompt, resolution: '1k' }, throughSimulator);
    expect(step.state).toBe('succeeded');
    const images = succeededImages(step);
    expect(images).toHaveLength(2);
    for (const image of images) {
      const { width, height } = await downloadedPngSize(image);
      expect(width / height).toBeCloseTo(16 / 9, 1);
    }
    expect((await firstJsonRequest('/v1/images/generations', prompt)).headers.authorization).toBe(`Bearer ${env.XAI_API_KEY}`);
  });

  it('would be refused by the simulator, as by xAI, if it sent OpenAI size', async () => {
    const res = await throughSimulator.fetch(`${env.XAI_BASE_URL}/v1/images/generations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${env.XAI_API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'grok-imagine-image', prompt: 'x', size: '1024x1024' }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'Argument not supported: size' });
  });

  it('has nothing to poll', () => {
    expectSync(xaiAdapter, grokImagine.nodes[0]);
  });
});

describe('xai adapter: reading the answers', () => {
  it('reads data[].url as image URLs and data[].b64_json as inline images', async () => {
    const urls = fake(Response.json({ data: [{ url: 'https://imgen.x.ai/a.jpeg', respect_moderation: true }, { url: 'https://imgen.x.ai/b.jpeg' }] }));
    expect(await submitJob(xaiAdapter, job, urls.call)).toEqual({
      state: 'succeeded',
      images: [{ url: 'https://imgen.x.ai/a.jpeg' }, { url: 'https://imgen.x.ai/b.jpeg' }],
    });
    const inline = fake(Response.json({ data: [{ b64_json: 'iVBORw0KGgo=', mime_type: 'image/png', revised_prompt: '' }] }));
    expect(succeededImages(await submitJob(xaiAdapter, job, inline.call)).map(inlineBytes)).toEqual([base64Bytes('iVBORw0KGgo=')]);
  });

  it('reads a 200 with block_reason as a moderated prompt', async () => {
    const { call } = fake(Response.json({ data: [], block_reason: 'The prompt was rejected by content moderation.' }));
    const step = await submitJob(xaiAdapter, job, call);
    expect(step).toMatchObject({ state: 'failed', code: 'content_moderated' });
    expect(failureMessage(step)).toContain('rejected by content moderation');
  });

  it('drops images with respect_moderation: false, and fails as moderated when none is left', async () => {
    const some = fake(Response.json({ data: [{ url: 'https://imgen.x.ai/a.jpeg', respect_moderation: false }, { url: 'https://imgen.x.ai/b.jpeg', respect_moderation: true }] }));
    expect(await submitJob(xaiAdapter, job, some.call)).toEqual({ state: 'succeeded', images: [{ url: 'https://imgen.x.ai/b.jpeg' }] });
    const none = fake(Response.json({ data: [{ url: null, b64_json: null, respect_moderation: false }] }));
    expect(await submitJob(xaiAdapter, job, none.call)).toMatchObject({ state: 'failed', code: 'content_moderated' });
  });

  it('throws a rate-limited retryable error on a 429 rate limit, with Retry-After', async () => {
    const limited = failure(429, 'Too many requests', 'Rate limit exceeded', { 'retry-after': '2' });
    await expectRetryable(submitJob(xaiAdapter, job, fake(limited).call), { rateLimited: true, retryAfterMs: 2000 });
  });

  it.each([
    ['429 spending limit', failure(429, 'Some resource has been exhausted', 'Your team has either used all available credits or reached its monthly spending limit.')],
    ['403 no credits', failure(403, 'The caller does not have permission to execute the specified operation', "Your newly created team doesn't have any credits or licenses yet.")],
  ])('reads an out-of-credit answer (%s) as provider_unavailable, not as a rate limit', async (_name, response) => {
    expect(await submitJob(xaiAdapter, job, fake(response).call)).toMatchObject(OUT_OF_CREDIT);
  });

  it('reads a rejected key as provider_unavailable', async () => {
    const response = failure(400, 'Client specified an invalid argument', 'Incorrect API key provided: xa***. You can obtain an API key from https://console.x.ai.');
    expect(await submitJob(xaiAdapter, job, fake(response).call)).toMatchObject(KEY_REJECTED);
  });

  it('reads a validation error as provider_error, in either error shape', async () => {
    const flat = await submitJob(xaiAdapter, job, fake(failure(400, 'Client specified an invalid argument', 'Argument not supported: size')).call);
    expect(flat).toMatchObject({ state: 'failed', code: 'provider_error' });
    expect(failureMessage(flat)).toContain('Argument not supported: size');
    const nested = jsonAnswer(422, { error: { message: 'n must be at most 10', type: 'invalid_request_error', code: 'invalid_argument' } });
    const step = await submitJob(xaiAdapter, job, fake(nested).call);
    expect(step).toMatchObject({ state: 'failed', code: 'provider_error' });
    expect(failureMessage(step)).toContain('n must be at most 10');
  });

  it('throws a retryable error on 5xx and on a 200 that is not JSON', async () => {
    for (const response of [failure(500, 'Internal error', 'Image generation failed.'), new Response('<html>bad gateway</html>', { status: 200 })]) {
      await expectRetryable(submitJob(xaiAdapter, job, fake(response).call), { rateLimited: false });
    }
  });
});
