import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { Env } from '../../src/env';
import { recraftAdapter, recraftSize, type RecraftJob } from '../../src/providers/recraft.adapter';
import { ProviderRetryableError, type ProviderCall, type ProviderStep } from '../../src/providers/types';
import { pngSize } from '../png';

const BASE = 'https://external.api.recraft.ai';
const KEY = 'recraft-test-key';
const job: RecraftJob = { model: 'recraftv4', prompt: 'a minimalist poster of a mountain', n: 2, size: '1344x768' };

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
  const testEnv = { ...env, RECRAFT_BASE_URL: BASE, RECRAFT_API_KEY: KEY } as Env;
  return { call: { env: testEnv, fetch: fetchFn as typeof fetch }, calls };
}

const plain = (status: number, body: string, headers: Record<string, string> = {}) =>
  new Response(body, { status, headers: { 'content-type': 'text/plain; charset=utf-8', ...headers } });
const failure = (status: number, code: string, message: string) => Response.json({ code, message }, { status });

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: unknown) => err,
  );
}

describe('recraft adapter: the request', () => {
  it('posts /v1/images/generations with a Bearer token, the model, n, a WxH size and url results', async () => {
    const { call, calls } = fake(Response.json({ created: 1, credits: 80, data: [] }));
    await recraftAdapter.submit(job, call);
    expect(calls).toHaveLength(1);
    const [sent] = calls;
    expect(sent!.url).toBe(`${BASE}/v1/images/generations`);
    expect(sent!.method).toBe('POST');
    expect(sent!.headers.get('authorization')).toBe(`Bearer ${KEY}`);
    expect(sent!.headers.get('content-type')).toBe('application/json');
    expect(JSON.parse(sent!.body!)).toEqual({
      model: 'recraftv4',
      prompt: 'a minimalist poster of a mountain',
      n: 2,
      size: '1344x768',
      response_format: 'url',
    });
  });

  it('spells sizes WxH', () => {
    expect(recraftSize(1216, 896)).toBe('1216x896');
  });

  it('is accepted by the simulator, which validates like Recraft, and its URLs serve PNGs of the size', async () => {
    const call: ProviderCall = { env, fetch: (input, init) => fetch(input, init) };
    const prompt = `contract run ${crypto.randomUUID()}`;
    const step = await recraftAdapter.submit({ ...job, prompt }, call);
    expect(step.state).toBe('succeeded');
    const { images } = step as Extract<ProviderStep, { state: 'succeeded' }>;
    expect(images).toHaveLength(2);
    for (const image of images) {
      const bytes = new Uint8Array(await (await fetch((image as { url: string }).url)).arrayBuffer());
      expect(pngSize(bytes)).toEqual({ width: 1344, height: 768 });
    }
    const recorded = await (await fetch(`${env.SIMULATOR_URL}/__sim/requests?path=/v1/images/generations`)).json<{ body: string; headers: Record<string, string> }[]>();
    expect(recorded.find((r) => r.body.includes(prompt))!.headers.authorization).toBe(`Bearer ${env.RECRAFT_API_KEY}`);
  });

  it('is refused by the simulator for a size Recraft V4 does not make', async () => {
    const call: ProviderCall = { env, fetch: (input, init) => fetch(input, init) };
    const step = await recraftAdapter.submit({ ...job, size: '1000x1000' }, call);
    expect(step).toMatchObject({ state: 'failed', code: 'provider_error' });
    expect((step as { message: string }).message).toContain('1000x1000');
  });

  it('has nothing to poll', async () => {
    await expect(recraftAdapter.poll({ id: 'x' }, fake(new Response()).call)).rejects.toThrow(/synchronous/);
  });
});

describe('recraft adapter: reading the answers', () => {
  it('reads data[].url as image URLs', async () => {
    const body = { created: 1, credits: 80, data: [{ image_id: 'a', url: 'https://img.recraft.ai/a.png' }, { image_id: 'b', url: 'https://img.recraft.ai/b.png' }] };
    expect(await recraftAdapter.submit(job, fake(Response.json(body)).call)).toEqual({
      state: 'succeeded',
      images: [{ url: 'https://img.recraft.ai/a.png' }, { url: 'https://img.recraft.ai/b.png' }],
    });
  });

  it('passes an empty data list on as no images, which the task treats as moderated', async () => {
    expect(await recraftAdapter.submit(job, fake(Response.json({ created: 1, credits: 0, data: [] })).call)).toEqual({
      state: 'succeeded',
      images: [],
    });
  });

  it('reads a refusal about the content as content_moderated', async () => {
    const step = await recraftAdapter.submit(job, fake(failure(400, 'inappropriate_content', 'The prompt was flagged as inappropriate (NSFW) content')).call);
    expect(step).toMatchObject({ state: 'failed', code: 'content_moderated' });
  });

  it('reads the text/plain 401 as provider_unavailable', async () => {
    expect(await recraftAdapter.submit(job, fake(plain(401, 'request unauthorized')).call)).toMatchObject({
      state: 'failed',
      code: 'provider_unavailable',
      message: 'The provider rejected our credentials.',
    });
  });

  it.each([
    ['402', failure(402, 'not_enough_credits', 'Not enough API units to perform the operation, please top up')],
    ['400 about credits', plain(400, 'not enough credits')],
  ])('reads an out-of-credit answer (%s) as provider_unavailable', async (_name, response) => {
    expect(await recraftAdapter.submit(job, fake(response).call)).toMatchObject({
      state: 'failed',
      code: 'provider_unavailable',
      message: 'The provider account is out of credit.',
    });
  });

  it('reads validation errors as provider_error, from a JSON body or a text/plain one', async () => {
    const fromJson = await recraftAdapter.submit(job, fake(failure(400, 'invalid_size', 'size 1000x1000 is not supported')).call);
    expect(fromJson).toMatchObject({ state: 'failed', code: 'provider_error' });
    expect((fromJson as { message: string }).message).toContain('size 1000x1000 is not supported');
    const fromText = await recraftAdapter.submit(job, fake(plain(404, '404 page not found')).call);
    expect(fromText).toMatchObject({ state: 'failed', code: 'provider_error' });
    expect((fromText as { message: string }).message).toContain('404 page not found');
  });

  it('does not parse a body as JSON unless Content-Type says it is', async () => {
    const step = await recraftAdapter.submit(job, fake(plain(400, '{"message":"looks like JSON"}')).call);
    expect((step as { message: string }).message).toContain('{"message":"looks like JSON"}');
  });

  it('throws a rate-limited retryable error on 429 and a retryable one on 5xx', async () => {
    const limited = await rejection(recraftAdapter.submit(job, fake(plain(429, 'too many requests', { 'retry-after': '1' })).call));
    expect(limited).toBeInstanceOf(ProviderRetryableError);
    expect(limited).toMatchObject({ rateLimited: true, retryAfterMs: 1000 });
    const broken = await rejection(recraftAdapter.submit(job, fake(plain(502, 'bad gateway')).call));
    expect(broken).toBeInstanceOf(ProviderRetryableError);
    expect(broken).toMatchObject({ rateLimited: false });
  });
});
