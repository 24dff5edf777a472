import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { Env } from '../../src/env';
import { ProviderRetryableError, type ProviderCall, type ProviderStep } from '../../src/providers/types';
import { xaiAdapter, type XaiJob } from '../../src/providers/xai.adapter';
import { pngSize } from '../png';

const BASE = 'https://api.x.ai';
const KEY = 'xai-test-key';
const job: XaiJob = { model: 'grok-imagine-image', prompt: 'a paper boat on a pond', n: 2, aspect_ratio: '16:9', resolution: '2k' };

interface Call {
  url: string;
  method: string;
  headers: Headers;
  body: string | null;
}

/** A `ProviderCall` whose fetch records each request and answers with the canned response. */
function fake(response: Response): { call: ProviderCall; calls: Call[] } {
  const calls: Call[] = [];
  const fetchFn = async (input: RequestInfo | URL, init: RequestInit = {}) => {
    calls.push({ url: String(input), method: init.method ?? 'GET', headers: new Headers(init.headers), body: (init.body as string | undefined) ?? null });
    return response;
  };
  const testEnv = { ...env, XAI_BASE_URL: BASE, XAI_API_KEY: KEY } as Env;
  return { call: { env: testEnv, fetch: fetchFn as typeof fetch }, calls };
}

const failure = (status: number, code: string, error: string, headers: Record<string, string> = {}) =>
  Response.json({ code, error }, { status, headers });

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: unknown) => err,
  );
}

describe('xai adapter: the request', () => {
  it('posts /v1/images/generations with a Bearer key, aspect_ratio, resolution and url results', async () => {
    const { call, calls } = fake(Response.json({ data: [{ url: 'https://imgen.x.ai/a.jpeg' }] }));
    await xaiAdapter.submit(job, call);
    expect(calls).toHaveLength(1);
    const [sent] = calls;
    expect(sent!.url).toBe(`${BASE}/v1/images/generations`);
    expect(sent!.method).toBe('POST');
    expect(sent!.headers.get('authorization')).toBe(`Bearer ${KEY}`);
    expect(sent!.headers.get('content-type')).toBe('application/json');
    expect(JSON.parse(sent!.body!)).toEqual({
      model: 'grok-imagine-image',
      prompt: 'a paper boat on a pond',
      n: 2,
      aspect_ratio: '16:9',
      resolution: '2k',
      response_format: 'url',
    });
  });

  it('is accepted by the simulator, which validates like xAI, and its URLs serve PNGs', async () => {
    const call: ProviderCall = { env, fetch: (input, init) => fetch(input, init) };
    const prompt = `contract run ${crypto.randomUUID()}`;
    const step = await xaiAdapter.submit({ ...job, prompt, resolution: '1k' }, call);
    expect(step.state).toBe('succeeded');
    const { images } = step as Extract<ProviderStep, { state: 'succeeded' }>;
    expect(images).toHaveLength(2);
    for (const image of images) {
      const { width, height } = pngSize(new Uint8Array(await (await fetch((image as { url: string }).url)).arrayBuffer()));
      expect(width / height).toBeCloseTo(16 / 9, 1);
    }
    const recorded = await (await fetch(`${env.SIMULATOR_URL}/__sim/requests?path=/v1/images/generations`)).json<{ body: string; headers: Record<string, string> }[]>();
    expect(recorded.find((r) => r.body.includes(prompt))!.headers.authorization).toBe(`Bearer ${env.XAI_API_KEY}`);
  });

  it('would be refused by the simulator, as by xAI, if it sent OpenAI size', async () => {
    const call: ProviderCall = { env, fetch: (input, init) => fetch(input, init) };
    const res = await call.fetch(`${env.XAI_BASE_URL}/v1/images/generations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${env.XAI_API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'grok-imagine-image', prompt: 'x', size: '1024x1024' }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'Argument not supported: size' });
  });

  it('has nothing to poll', async () => {
    await expect(xaiAdapter.poll({ id: 'x' }, fake(new Response()).call)).rejects.toThrow(/synchronous/);
  });
});

describe('xai adapter: reading the answers', () => {
  it('reads data[].url as image URLs and data[].b64_json as inline images with their mime_type', async () => {
    const urls = fake(Response.json({ data: [{ url: 'https://imgen.x.ai/a.jpeg', respect_moderation: true }, { url: 'https://imgen.x.ai/b.jpeg' }] }));
    expect(await xaiAdapter.submit(job, urls.call)).toEqual({
      state: 'succeeded',
      images: [{ url: 'https://imgen.x.ai/a.jpeg' }, { url: 'https://imgen.x.ai/b.jpeg' }],
    });
    const inline = fake(Response.json({ data: [{ b64_json: 'iVBORw0KGgo=', mime_type: 'image/png', revised_prompt: '' }] }));
    expect(await xaiAdapter.submit(job, inline.call)).toEqual({
      state: 'succeeded',
      images: [{ base64: 'iVBORw0KGgo=', content_type: 'image/png' }],
    });
  });

  it('reads a 200 with block_reason as a moderated prompt', async () => {
    const { call } = fake(Response.json({ data: [], block_reason: 'The prompt was rejected by content moderation.' }));
    const step = await xaiAdapter.submit(job, call);
    expect(step).toMatchObject({ state: 'failed', code: 'content_moderated' });
    expect((step as { message: string }).message).toContain('rejected by content moderation');
  });

  it('drops images with respect_moderation: false, and fails as moderated when none is left', async () => {
    const some = fake(Response.json({ data: [{ url: 'https://imgen.x.ai/a.jpeg', respect_moderation: false }, { url: 'https://imgen.x.ai/b.jpeg', respect_moderation: true }] }));
    expect(await xaiAdapter.submit(job, some.call)).toEqual({ state: 'succeeded', images: [{ url: 'https://imgen.x.ai/b.jpeg' }] });
    const none = fake(Response.json({ data: [{ url: null, b64_json: null, respect_moderation: false }] }));
    expect(await xaiAdapter.submit(job, none.call)).toMatchObject({ state: 'failed', code: 'content_moderated' });
  });

  it('throws a rate-limited retryable error on a 429 rate limit, with Retry-After', async () => {
    const err = await rejection(xaiAdapter.submit(job, fake(failure(429, 'Too many requests', 'Rate limit exceeded', { 'retry-after': '2' })).call));
    expect(err).toBeInstanceOf(ProviderRetryableError);
    expect(err).toMatchObject({ rateLimited: true, retryAfterMs: 2000 });
  });

  it.each([
    ['429 spending limit', failure(429, 'Some resource has been exhausted', 'Your team has either used all available credits or reached its monthly spending limit.')],
    ['403 no credits', failure(403, 'The caller does not have permission to execute the specified operation', "Your newly created team doesn't have any credits or licenses yet.")],
  ])('reads an out-of-credit answer (%s) as provider_unavailable, not as a rate limit', async (_name, response) => {
    expect(await xaiAdapter.submit(job, fake(response).call)).toMatchObject({
      state: 'failed',
      code: 'provider_unavailable',
      message: 'The provider account is out of credit.',
    });
  });

  it('reads a rejected key as provider_unavailable', async () => {
    const response = failure(400, 'Client specified an invalid argument', 'Incorrect API key provided: xa***. You can obtain an API key from https://console.x.ai.');
    expect(await xaiAdapter.submit(job, fake(response).call)).toMatchObject({
      state: 'failed',
      code: 'provider_unavailable',
      message: 'The provider rejected our credentials.',
    });
  });

  it('reads a validation error as provider_error, in either error shape', async () => {
    const flat = await xaiAdapter.submit(job, fake(failure(400, 'Client specified an invalid argument', 'Argument not supported: size')).call);
    expect(flat).toMatchObject({ state: 'failed', code: 'provider_error' });
    expect((flat as { message: string }).message).toContain('Argument not supported: size');
    const nested = Response.json({ error: { message: 'n must be at most 10', type: 'invalid_request_error', code: 'invalid_argument' } }, { status: 422 });
    const step = await xaiAdapter.submit(job, fake(nested).call);
    expect(step).toMatchObject({ state: 'failed', code: 'provider_error' });
    expect((step as { message: string }).message).toContain('n must be at most 10');
  });

  it('throws a retryable error on 5xx and on a 200 that is not JSON', async () => {
    for (const response of [failure(500, 'Internal error', 'Image generation failed.'), new Response('<html>bad gateway</html>', { status: 200 })]) {
      const err = await rejection(xaiAdapter.submit(job, fake(response).call));
      expect(err).toBeInstanceOf(ProviderRetryableError);
      expect(err).toMatchObject({ rateLimited: false });
    }
  });
});
