import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { recraftV4 } from '../../src/catalog/recraft-v4';
import { submitJob } from '../../src/providers/exchange';
import { recraftAdapter, recraftSize, type RecraftJob } from '../../src/providers/recraft.adapter';
import { firstJsonRequest, uniquePrompt } from '../simulator-fixtures';
import {
  downloadedPngSize,
  expectSync,
  expectBearerJsonPost,
  expectRetryable,
  failureMessage,
  jsonAnswer,
  KEY_REJECTED,
  onlyRequest,
  OUT_OF_CREDIT,
  recordingCall,
  sentJson,
  succeededImages,
  textAnswer,
  throughSimulator,
} from './adapter-harness';

const BASE = 'https://external.api.recraft.ai';
const KEY = 'recraft-test-key';
const job: RecraftJob = { model: 'recraftv4', prompt: 'a minimalist poster of a mountain', n: 2, size: '1344x768' };

/** A call whose fetch records what the adapter sends to Recraft and answers with `response`. */
const fake = (response: Response) => recordingCall(response, { env: { RECRAFT_BASE_URL: BASE, RECRAFT_API_KEY: KEY } });

/** Recraft's JSON error body (it also answers some errors in text/plain: `textAnswer`). */
const failure = (status: number, code: string, message: string) => jsonAnswer(status, { code, message });

describe('recraft adapter: the request', () => {
  it('posts /v1/images/generations with a Bearer token, the model, n, a WxH size and url results', async () => {
    const { call, sent } = fake(Response.json({ created: 1, credits: 80, data: [] }));
    await submitJob(recraftAdapter, job, call);
    const request = onlyRequest(sent);
    expectBearerJsonPost(request, `${BASE}/v1/images/generations`, KEY);
    expect(sentJson(request)).toEqual({
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
    const prompt = uniquePrompt('contract run');
    const step = await submitJob(recraftAdapter, { ...job, prompt }, throughSimulator);
    expect(step.state).toBe('succeeded');
    const images = succeededImages(step);
    expect(images).toHaveLength(2);
    for (const image of images) {
      expect(await downloadedPngSize(image)).toEqual({ width: 1344, height: 768 });
    }
    expect((await firstJsonRequest('/v1/images/generations', prompt)).headers.authorization).toBe(`Bearer ${env.RECRAFT_API_KEY}`);
  });

  it('is refused by the simulator for a size Recraft V4 does not make', async () => {
    const step = await submitJob(recraftAdapter, { ...job, size: '1000x1000' }, throughSimulator);
    expect(step).toMatchObject({ state: 'failed', code: 'provider_error' });
    expect(failureMessage(step)).toContain('1000x1000');
  });

  it('has nothing to poll', () => {
    expectSync(recraftAdapter, recraftV4.nodes[0]);
  });
});

describe('recraft adapter: reading the answers', () => {
  it('reads data[].url as image URLs', async () => {
    const body = { created: 1, credits: 80, data: [{ image_id: 'a', url: 'https://img.recraft.ai/a.png' }, { image_id: 'b', url: 'https://img.recraft.ai/b.png' }] };
    expect(await submitJob(recraftAdapter, job, fake(Response.json(body)).call)).toEqual({
      state: 'succeeded',
      images: [{ url: 'https://img.recraft.ai/a.png' }, { url: 'https://img.recraft.ai/b.png' }],
    });
  });

  it('passes an empty data list on as no images, which the task treats as moderated', async () => {
    expect(await submitJob(recraftAdapter, job, fake(Response.json({ created: 1, credits: 0, data: [] })).call)).toEqual({
      state: 'succeeded',
      images: [],
    });
  });

  it('reads a refusal about the content as content_moderated', async () => {
    const step = await submitJob(recraftAdapter, job, fake(failure(400, 'inappropriate_content', 'The prompt was flagged as inappropriate (NSFW) content')).call);
    expect(step).toMatchObject({ state: 'failed', code: 'content_moderated' });
  });

  it('reads the text/plain 401 as provider_unavailable', async () => {
    expect(await submitJob(recraftAdapter, job, fake(textAnswer(401, 'request unauthorized')).call)).toMatchObject(KEY_REJECTED);
  });

  it.each([
    ['402', failure(402, 'not_enough_credits', 'Not enough API units to perform the operation, please top up')],
    ['400 about credits', textAnswer(400, 'not enough credits')],
  ])('reads an out-of-credit answer (%s) as provider_unavailable', async (_name, response) => {
    expect(await submitJob(recraftAdapter, job, fake(response).call)).toMatchObject(OUT_OF_CREDIT);
  });

  it('reads validation errors as provider_error, from a JSON body or a text/plain one', async () => {
    const fromJson = await submitJob(recraftAdapter, job, fake(failure(400, 'invalid_size', 'size 1000x1000 is not supported')).call);
    expect(fromJson).toMatchObject({ state: 'failed', code: 'provider_error' });
    expect(failureMessage(fromJson)).toContain('size 1000x1000 is not supported');
    const fromText = await submitJob(recraftAdapter, job, fake(textAnswer(404, '404 page not found')).call);
    expect(fromText).toMatchObject({ state: 'failed', code: 'provider_error' });
    expect(failureMessage(fromText)).toContain('404 page not found');
  });

  it('does not parse a body as JSON unless Content-Type says it is', async () => {
    const step = await submitJob(recraftAdapter, job, fake(textAnswer(400, '{"message":"looks like JSON"}')).call);
    expect(failureMessage(step)).toContain('{"message":"looks like JSON"}');
  });

  it('throws a rate-limited retryable error on 429 and a retryable one on 5xx', async () => {
    await expectRetryable(submitJob(recraftAdapter, job, fake(textAnswer(429, 'too many requests', { 'retry-after': '1' })).call), { rateLimited: true, retryAfterMs: 1000 });
    await expectRetryable(submitJob(recraftAdapter, job, fake(textAnswer(502, 'bad gateway')).call), { rateLimited: false });
  });
});
