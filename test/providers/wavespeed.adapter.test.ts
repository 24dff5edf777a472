import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { Env } from '../../src/env';
import { ProviderRetryableError, type ProviderCall, type ProviderStep } from '../../src/providers/types';
import { wavespeedAdapter, wavespeedSize, type WavespeedJob } from '../../src/providers/wavespeed.adapter';
import { pngSize } from '../png';

const BASE = 'https://api.wavespeed.ai';
const KEY = 'ws-test-key';
const job: WavespeedJob = { model: 'z-ai/cogview-4', input: { prompt: 'a lighthouse at dusk', size: '1344*768', quality: 'hd' } };

interface Call {
  url: string;
  method: string;
  headers: Headers;
  body: string | null;
}

/** A `ProviderCall` whose fetch records each request and answers with the canned responses in turn. */
function fake(...responses: Response[]): { call: ProviderCall; calls: Call[] } {
  const calls: Call[] = [];
  const fetchFn = async (input: RequestInfo | URL, init: RequestInit = {}) => {
    calls.push({ url: String(input), method: init.method ?? 'GET', headers: new Headers(init.headers), body: (init.body as string | undefined) ?? null });
    const next = responses.shift();
    if (!next) throw new Error('no canned response left');
    return next;
  };
  const testEnv = { ...env, WAVESPEED_BASE_URL: BASE, WAVESPEED_API_KEY: KEY } as Env;
  return { call: { env: testEnv, fetch: fetchFn as typeof fetch }, calls };
}

const envelope = (data: Record<string, unknown>, status = 200) =>
  Response.json({ code: status, message: 'success', data }, { status });
const prediction = (fields: Record<string, unknown>) => ({
  id: 'pred_1',
  model: 'z-ai/cogview-4',
  outputs: [],
  has_nsfw_contents: [],
  status: 'processing',
  error: '',
  urls: { get: `${BASE}/api/v3/predictions/pred_1/result` },
  ...fields,
});
const errorBody = (status: number, message: string, headers: Record<string, string> = {}) =>
  Response.json({ code: status, message }, { status, headers });

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: unknown) => err,
  );
}

describe('wavespeed adapter: the request', () => {
  it('submits POST /api/v3/{model} with a Bearer key and the model input as the JSON body', async () => {
    const { call, calls } = fake(envelope(prediction({ status: 'created' })));
    await wavespeedAdapter.submit(job, call);
    expect(calls).toHaveLength(1);
    const [sent] = calls;
    expect(sent!.url).toBe(`${BASE}/api/v3/z-ai/cogview-4`);
    expect(sent!.method).toBe('POST');
    expect(sent!.headers.get('authorization')).toBe(`Bearer ${KEY}`);
    expect(sent!.headers.get('content-type')).toBe('application/json');
    expect(JSON.parse(sent!.body!)).toEqual({ prompt: 'a lighthouse at dusk', size: '1344*768', quality: 'hd' });
  });

  it('polls GET /api/v3/predictions/{id}/result on our own host, whatever urls.get says', async () => {
    const { call, calls } = fake(envelope(prediction({ status: 'processing' })));
    await wavespeedAdapter.poll({ id: 'pred_1', model: job.model }, call);
    expect(calls[0]!.url).toBe(`${BASE}/api/v3/predictions/pred_1/result`);
    expect(calls[0]!.method).toBe('GET');
    expect(calls[0]!.headers.get('authorization')).toBe(`Bearer ${KEY}`);
    expect(calls[0]!.body).toBeNull();
  });

  it('spells sizes W*H', () => {
    expect(wavespeedSize(1280, 720)).toBe('1280*720');
  });

  it('is accepted by the simulator, which validates like WaveSpeed, and follows the job to a PNG', async () => {
    const call: ProviderCall = { env, fetch: (input, init) => fetch(input, init) };
    const prompt = `contract run ${crypto.randomUUID()}`;
    let step: ProviderStep = await wavespeedAdapter.submit({ ...job, input: { ...job.input, prompt } }, call);
    for (let i = 0; i < 50 && step.state === 'pending'; i++) step = await wavespeedAdapter.poll(step.handle, call);
    expect(step.state).toBe('succeeded');
    const [image] = (step as Extract<ProviderStep, { state: 'succeeded' }>).images;
    const bytes = new Uint8Array(await (await fetch((image as { url: string }).url)).arrayBuffer());
    expect(pngSize(bytes)).toEqual({ width: 1344, height: 768 });
    const recorded = await (await fetch(`${env.SIMULATOR_URL}/__sim/requests?path=/api/v3/z-ai/cogview-4`)).json<{ body: string; headers: Record<string, string> }[]>();
    const sent = recorded.find((r) => r.body.includes(prompt))!;
    expect(sent.headers.authorization).toBe(`Bearer ${env.WAVESPEED_API_KEY}`);
  });

  it('is refused by the simulator when a field is not in the model schema, as WaveSpeed refuses it', async () => {
    const call: ProviderCall = { env, fetch: (input, init) => fetch(input, init) };
    const step = await wavespeedAdapter.submit({ ...job, input: { ...job.input, size: '1000x700' } }, call);
    expect(step).toMatchObject({ state: 'failed', code: 'provider_error' });
    expect((step as { message: string }).message).toContain('size');
  });
});

describe('wavespeed adapter: reading the answers', () => {
  it('turns a created prediction into a pending step holding its id', async () => {
    const { call } = fake(envelope(prediction({ status: 'created' })));
    expect(await wavespeedAdapter.submit(job, call)).toEqual({ state: 'pending', handle: { id: 'pred_1', model: 'z-ai/cogview-4' } });
  });

  it('keeps following created and processing predictions', async () => {
    const { call } = fake(envelope(prediction({ status: 'created' })), envelope(prediction({ status: 'processing' })));
    const handle = { id: 'pred_1', model: job.model };
    expect(await wavespeedAdapter.poll(handle, call)).toEqual({ state: 'pending', handle });
    expect(await wavespeedAdapter.poll(handle, call)).toEqual({ state: 'pending', handle });
  });

  it('reads a completed prediction as its output URLs', async () => {
    const outputs = ['https://cdn.wavespeed.ai/a.png', 'https://cdn.wavespeed.ai/b.png'];
    const { call } = fake(envelope(prediction({ status: 'completed', outputs, has_nsfw_contents: [false, false] })));
    expect(await wavespeedAdapter.poll({ id: 'pred_1', model: job.model }, call)).toEqual({
      state: 'succeeded',
      images: outputs.map((url) => ({ url })),
    });
  });

  it('drops outputs flagged in has_nsfw_contents, and fails as moderated when all are', async () => {
    const outputs = ['https://cdn.wavespeed.ai/a.png', 'https://cdn.wavespeed.ai/b.png'];
    const some = fake(envelope(prediction({ status: 'completed', outputs, has_nsfw_contents: [true, false] })));
    expect(await wavespeedAdapter.poll({ id: 'pred_1', model: job.model }, some.call)).toEqual({
      state: 'succeeded',
      images: [{ url: outputs[1] }],
    });
    const all = fake(envelope(prediction({ status: 'completed', outputs, has_nsfw_contents: [true, true] })));
    expect(await wavespeedAdapter.poll({ id: 'pred_1', model: job.model }, all.call)).toMatchObject({
      state: 'failed',
      code: 'content_moderated',
    });
  });

  it('reads a failed prediction as provider_error, or content_moderated when its error is about the content', async () => {
    const failed = fake(envelope(prediction({ status: 'failed', error: 'Internal error: inference failed' })));
    const step = await wavespeedAdapter.poll({ id: 'pred_1', model: job.model }, failed.call);
    expect(step).toMatchObject({ state: 'failed', code: 'provider_error' });
    expect((step as { message: string }).message).toContain('inference failed');
    const refused = fake(envelope(prediction({ status: 'failed', error: 'The prompt was flagged as sensitive by the content safety checker.' })));
    expect(await wavespeedAdapter.poll({ id: 'pred_1', model: job.model }, refused.call)).toMatchObject({
      state: 'failed',
      code: 'content_moderated',
    });
  });

  it('reads a 404 on poll as a lost job', async () => {
    const { call } = fake(errorBody(404, 'prediction not found'));
    expect(await wavespeedAdapter.poll({ id: 'gone', model: job.model }, call)).toMatchObject({ state: 'failed', code: 'provider_error' });
  });

  it('throws a rate-limited retryable error on 429, with Retry-After', async () => {
    const { call } = fake(errorBody(429, 'Too many requests', { 'retry-after': '3' }));
    const err = await rejection(wavespeedAdapter.submit(job, call));
    expect(err).toBeInstanceOf(ProviderRetryableError);
    expect(err).toMatchObject({ rateLimited: true, retryAfterMs: 3000 });
  });

  it('throws a retryable error on 5xx and on an answer without data.id', async () => {
    for (const response of [errorBody(503, 'Service temporarily unavailable'), Response.json({ code: 200, message: 'success' })]) {
      const err = await rejection(wavespeedAdapter.submit(job, fake(response).call));
      expect(err).toBeInstanceOf(ProviderRetryableError);
      expect(err).toMatchObject({ rateLimited: false });
    }
  });

  it.each([
    ['402', errorBody(402, 'Payment required')],
    ['400 insufficient balance', errorBody(400, 'Insufficient balance, please top up your account.')],
  ])('reads an out-of-credit answer (%s) as provider_unavailable', async (_name, response) => {
    expect(await wavespeedAdapter.submit(job, fake(response).call)).toMatchObject({
      state: 'failed',
      code: 'provider_unavailable',
      message: 'The provider account is out of credit.',
    });
  });

  it('reads a rejected key (401) as provider_unavailable', async () => {
    expect(await wavespeedAdapter.submit(job, fake(errorBody(401, 'Unauthorized')).call)).toMatchObject({
      state: 'failed',
      code: 'provider_unavailable',
      message: 'The provider rejected our credentials.',
    });
  });

  it('reads a validation error (400) as provider_error carrying its message', async () => {
    const step = await wavespeedAdapter.submit(job, fake(errorBody(400, 'size: must be one of 1024*1024, 768*1344')).call);
    expect(step).toMatchObject({ state: 'failed', code: 'provider_error' });
    expect((step as { message: string }).message).toContain('size: must be one of');
  });
});
