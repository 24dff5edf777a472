import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { ideogramV3 } from '../../src/catalog/ideogram-v3';
import { ideogramV4 } from '../../src/catalog/ideogram-v4';
import { submitJob } from '../../src/providers/exchange';
import { ideogramAdapter, ideogramAsyncAdapter, type IdeogramJob } from '../../src/providers/ideogram.adapter';
import type { ProviderStep } from '../../src/providers/types';
import { hostedPng, simulatorRequests, uniquePrompt } from '../simulator-fixtures';
import { asyncNode, downloadedPngSize, expectRetryable, expectSync, failureMessage, jsonAnswer, onlyRequest, recordingCall, succeededImages, throughSimulator } from './adapter-harness';

/** The first 24 bytes of a 640x480 PNG: enough for a magic-byte check. */
const PNG_HEAD = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 2, 128, 0, 0, 1, 224]);
const REFERENCE = 'https://images.example.com/ref.png';

const image = (url: string | null, safe = true) => ({ url, prompt: 'p', resolution: '1024x1024', is_image_safe: safe, seed: 1 });
const ok = (...data: object[]): Response => jsonAnswer(200, { created: '2025-01-01T00:00:00Z', data });
const v3 = ideogramV3.nodes[0]!;
const v4Sync = ideogramV4.nodes[0]!;
const v4Async = asyncNode(ideogramV4.nodes[1]);
const v3Input = (fields: Record<string, unknown>) => ideogramV3.schema.parse({ model: 'ideogram-v3', prompt: 'a neon sign saying OPEN', ...fields });
const v4Input = (fields: Record<string, unknown>) => ideogramV4.schema.parse({ model: 'ideogram-v4', prompt: 'a poster saying HELLO', ...fields });
/** The text fields of a multipart body (files left out). */
const fields = (form: FormData | null) =>
  Object.fromEntries([...(form?.entries() ?? [])].filter(([, v]) => typeof v === 'string'));

describe('Ideogram adapter: the requests it sends', () => {
  it('posts Ideogram 3.0 as multipart with Api-Key, ratios spelt 16x9', async () => {
    const { call, sent } = recordingCall([ok(image('https://ideogram.ai/e/1.png'))]);
    await v3.submit(v3Input({ aspect_ratio: '16:9', rendering_speed: 'TURBO', n: 2, seed: 7, negative_prompt: 'blur' }), call);
    const request = onlyRequest(sent);
    expect(request.url).toBe(new URL('/v1/ideogram-v3/generate', env.IDEOGRAM_BASE_URL).toString());
    expect(request.method).toBe('POST');
    expect(request.headers.get('api-key')).toBe(env.IDEOGRAM_API_KEY);
    expect(request.headers.get('authorization')).toBeNull();
    expect(fields(request.form)).toEqual({
      prompt: 'a neon sign saying OPEN',
      aspect_ratio: '16x9',
      rendering_speed: 'TURBO',
      magic_prompt: 'AUTO',
      style_type: 'GENERAL',
      num_images: '2',
      negative_prompt: 'blur',
      seed: '7',
    });
  });

  it('downloads the reference URLs and uploads them as style_reference_images files', async () => {
    const { call, sent } = recordingCall([ok(image('https://ideogram.ai/e/1.png'))], {
      files: { [REFERENCE]: new Response(PNG_HEAD, { headers: { 'content-type': 'image/png' } }) },
    });
    await v3.submit(v3Input({ input_urls: [REFERENCE] }), call);
    const files = sent[0]!.form!.getAll('style_reference_images') as unknown as File[];
    expect(files).toHaveLength(1);
    expect(files[0]!.type).toBe('image/png');
    expect(new Uint8Array(await files[0]!.arrayBuffer())).toEqual(PNG_HEAD);
  });

  it('fails invalid_input_image, without calling Ideogram, for a reference that is missing, not an image, or too big', async () => {
    const tooBig = new Uint8Array(10 * 1024 * 1024 + 1);
    tooBig.set(PNG_HEAD);
    for (const response of [
      new Response('gone', { status: 404 }),
      new Response('<html>hello</html>', { headers: { 'content-type': 'text/html' } }),
      new Response(tooBig, { headers: { 'content-type': 'image/png' } }),
    ]) {
      const { call, sent } = recordingCall([ok(image('https://ideogram.ai/e/1.png'))], { files: { [REFERENCE]: response } });
      const step = await v3.submit(v3Input({ input_urls: [REFERENCE] }), call);
      expect(step).toMatchObject({ state: 'failed', code: 'invalid_input_image' });
      expect(failureMessage(step)).toMatch(/input_urls\.0/);
      expect(sent).toHaveLength(0);
    }
  });

  it('posts Ideogram 4.0 on node63 to the sync route with text_prompt and a 2K resolution', async () => {
    const { call, sent } = recordingCall([ok(image('https://ideogram.ai/e/1.png'))]);
    await v4Sync.submit(v4Input({ aspect_ratio: '16:9', rendering_speed: 'QUALITY' }), call);
    expect(sent[0]!.url).toBe(new URL('/v1/ideogram-v4/generate', env.IDEOGRAM_BASE_URL).toString());
    expect(fields(sent[0]!.form)).toEqual({ text_prompt: 'a poster saying HELLO', resolution: '2560x1440', rendering_speed: 'QUALITY' });
  });

  it('posts Ideogram 4.0 on node30 to the async route and polls /v1/generations/{id}', async () => {
    const { call, sent } = recordingCall([
      jsonAnswer(200, { generation_id: 'gen_abc' }),
      jsonAnswer(200, { generation_id: 'gen_abc', status: 'pending', created: '2025-01-01T00:00:00Z' }),
      jsonAnswer(200, { generation_id: 'gen_abc', status: 'completed', created: '2025-01-01T00:00:00Z', response_type: 'url', data: [image('https://ideogram.ai/e/2.png')] }),
    ]);
    const submitted = await v4Async.submit(v4Input({}), call);
    expect(sent[0]!.url).toBe(new URL('/v1/ideogram-v4/async/generate', env.IDEOGRAM_BASE_URL).toString());
    expect(fields(sent[0]!.form)).toEqual({ text_prompt: 'a poster saying HELLO', resolution: '2048x2048', rendering_speed: 'DEFAULT' });
    expect(submitted).toEqual({ state: 'pending', handle: { generation_id: 'gen_abc' } });
    const handle = submitted.state === 'pending' ? submitted.handle : null;
    expect(await v4Async.poll(handle, call)).toEqual({ state: 'pending', handle });
    expect(sent[1]!.url).toBe(new URL('/v1/generations/gen_abc', env.IDEOGRAM_BASE_URL).toString());
    expect(sent[1]!.method).toBe('GET');
    expect(sent[1]!.headers.get('api-key')).toBe(env.IDEOGRAM_API_KEY);
    expect(await v4Async.poll(handle, call)).toEqual({ state: 'succeeded', images: [{ url: 'https://ideogram.ai/e/2.png' }] });
  });
});

describe('Ideogram adapter: reading the answers', () => {
  const submitWith = (answer: Response): Promise<ProviderStep> => v3.submit(v3Input({}), recordingCall(answer).call);

  it('hands over the ephemeral URLs of the safe images and drops the flagged ones', async () => {
    expect(await submitWith(ok(image('https://ideogram.ai/e/1.png'), image(null, false)))).toEqual({
      state: 'succeeded',
      images: [{ url: 'https://ideogram.ai/e/1.png' }],
    });
  });

  it('maps every image flagged by is_image_safe to content_moderated', async () => {
    expect(await submitWith(ok(image(null, false)))).toMatchObject({ state: 'failed', code: 'content_moderated' });
  });

  it('maps 422 (the safety check) to content_moderated', async () => {
    expect(await submitWith(jsonAnswer(422, { error: 'Prompt or provided image failed the safety checks' }))).toMatchObject({
      state: 'failed',
      code: 'content_moderated',
    });
  });

  it('maps a rejected key or an empty balance to provider_unavailable', async () => {
    expect(await submitWith(jsonAnswer(401, { detail: 'No authorization token provided' }))).toMatchObject({ code: 'provider_unavailable' });
    expect(await submitWith(jsonAnswer(402, { detail: 'Insufficient API credits.' }))).toMatchObject({ code: 'provider_unavailable' });
  });

  it('maps 400 to provider_error with the provider detail', async () => {
    expect(await submitWith(jsonAnswer(400, { detail: "'prompt' is a required property" }))).toEqual({
      state: 'failed',
      code: 'provider_error',
      message: "Provider rejected the request: 'prompt' is a required property",
    });
  });

  it('throws a rate-limited retryable error for 429 and a plain one for 5xx', async () => {
    await expectRetryable(submitWith(jsonAnswer(429, { detail: 'Too many requests' }, { 'retry-after': '4' })), { rateLimited: true, retryAfterMs: 4000 });
    await expectRetryable(submitWith(jsonAnswer(503, { detail: 'unavailable' })), { rateLimited: false });
  });

  it('maps a failed or lost async generation to provider_error and an unsafe one to content_moderated', async () => {
    const handle = { generation_id: 'gen_x' };
    const poll = (answer: Response) => v4Async.poll(handle, recordingCall(answer).call);
    expect(await poll(jsonAnswer(200, { generation_id: 'gen_x', status: 'failed', created: 'x' }))).toMatchObject({ code: 'provider_error' });
    expect(await poll(jsonAnswer(404, { detail: 'not found' }))).toMatchObject({ code: 'provider_error' });
    expect(await poll(jsonAnswer(200, { generation_id: 'gen_x', status: 'completed', created: 'x', data: [image(null, false)] }))).toMatchObject({
      code: 'content_moderated',
    });
  });
});

describe('Ideogram adapter: two modes of one provider', () => {
  it('binds node63 to the sync routes, with nothing to poll, and node30 to the async one', () => {
    expectSync(ideogramAdapter, v4Sync);
    expect(ideogramAsyncAdapter.mode).toBe('async');
    expect(ideogramAsyncAdapter.provider).toBe(ideogramAdapter.provider);
    expect(v4Async).toMatchObject({ mode: 'async', provider: 'ideogram', secret: 'IDEOGRAM_API_KEY' });
  });

  it('fails a generation whose stored handle it cannot read at once, without calling Ideogram', async () => {
    const { call, sent } = recordingCall([]);
    const step = await v4Async.poll({ id: 'not a generation handle' }, call);
    expect(step).toMatchObject({ state: 'failed', code: 'provider_error' });
    expect(sent).toHaveLength(0);
  });
});

describe('Ideogram adapter against the simulator', () => {
  it('runs Ideogram 3.0 with a reference file and serves a PNG of the ratio size', async () => {
    const prompt = uniquePrompt('sim contract');
    const step = await v3.submit(v3Input({ prompt, aspect_ratio: '16:9', input_urls: [await hostedPng()] }), throughSimulator);
    expect(step.state).toBe('succeeded');
    expect(await downloadedPngSize(succeededImages(step)[0]!)).toEqual({ width: 1312, height: 736 });
    const [mine] = await simulatorRequests('/v1/ideogram-v3/generate', prompt);
    expect(mine!.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(mine!.body).toMatch(/name="style_reference_images"; filename="reference-1\.png"/);
  });

  it('runs Ideogram 4.0 async to completion through polling', async () => {
    const step = await v4Async.submit(v4Input({ prompt: uniquePrompt('sim contract'), aspect_ratio: '4:3' }), throughSimulator);
    expect(step.state).toBe('pending');
    const done = await v4Async.poll(step.state === 'pending' ? step.handle : null, throughSimulator);
    expect(done.state).toBe('succeeded');
    expect(await downloadedPngSize(succeededImages(done)[0]!)).toEqual({ width: 2304, height: 1728 });
  });

  it('is refused by the simulator, as by Ideogram, for FLASH on 4.0', async () => {
    const job: IdeogramJob = { route: 'ideogram-v4/generate', fields: { text_prompt: 'a poster', rendering_speed: 'FLASH' } };
    expect(await submitJob(ideogramAdapter, job, throughSimulator)).toMatchObject({ state: 'failed', code: 'provider_error' });
  });
});
