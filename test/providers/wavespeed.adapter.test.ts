import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { pollJob, submitJob } from '../../src/providers/exchange';
import type { ProviderStep } from '../../src/providers/types';
import { wavespeedAdapter, wavespeedSize, type WavespeedJob } from '../../src/providers/wavespeed.adapter';
import { firstJsonRequest, uniquePrompt } from '../simulator-fixtures';
import {
  downloadedPngSize,
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
  throughSimulator,
} from './adapter-harness';

const BASE = 'https://api.wavespeed.ai';
const KEY = 'ws-test-key';
const job: WavespeedJob = { model: 'z-ai/cogview-4', input: { prompt: 'a lighthouse at dusk', size: '1344*768', quality: 'hd' } };

/** A call whose fetch records what the adapter sends to WaveSpeed and answers with `responses` in turn. */
const fake = (...responses: Response[]) => recordingCall(responses, { env: { WAVESPEED_BASE_URL: BASE, WAVESPEED_API_KEY: KEY } });

/** WaveSpeed's envelope around a prediction. */
const envelope = (data: Record<string, unknown>, status = 200) => jsonAnswer(status, { code: status, message: 'success', data });
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
/** WaveSpeed's error body. */
const errorBody = (status: number, message: string, headers: Record<string, string> = {}) => jsonAnswer(status, { code: status, message }, headers);

describe('wavespeed adapter: the request', () => {
  it('submits POST /api/v3/{model} with a Bearer key and the model input as the JSON body', async () => {
    const { call, sent } = fake(envelope(prediction({ status: 'created' })));
    await submitJob(wavespeedAdapter, job, call);
    const request = onlyRequest(sent);
    expectBearerJsonPost(request, `${BASE}/api/v3/z-ai/cogview-4`, KEY);
    expect(sentJson(request)).toEqual({ prompt: 'a lighthouse at dusk', size: '1344*768', quality: 'hd' });
  });

  it('polls GET /api/v3/predictions/{id}/result on our own host, whatever urls.get says', async () => {
    const { call, sent } = fake(envelope(prediction({ status: 'processing' })));
    await pollJob(wavespeedAdapter, { id: 'pred_1', model: job.model }, call);
    expect(sent[0]!.url).toBe(`${BASE}/api/v3/predictions/pred_1/result`);
    expect(sent[0]!.method).toBe('GET');
    expect(sent[0]!.headers.get('authorization')).toBe(`Bearer ${KEY}`);
    expect(sent[0]!.body).toBeNull();
    expect(sent[0]!.form).toBeNull();
  });

  it('spells sizes W*H', () => {
    expect(wavespeedSize(1280, 720)).toBe('1280*720');
  });

  it('is accepted by the simulator, which validates like WaveSpeed, and follows the job to a PNG', async () => {
    const prompt = uniquePrompt('contract run');
    let step: ProviderStep = await submitJob(wavespeedAdapter, { ...job, input: { ...job.input, prompt } }, throughSimulator);
    for (let i = 0; i < 50 && step.state === 'pending'; i++) step = await pollJob(wavespeedAdapter, step.handle, throughSimulator);
    expect(step.state).toBe('succeeded');
    const [image] = succeededImages(step);
    expect(await downloadedPngSize(image!)).toEqual({ width: 1344, height: 768 });
    expect((await firstJsonRequest('/api/v3/z-ai/cogview-4', prompt)).headers.authorization).toBe(`Bearer ${env.WAVESPEED_API_KEY}`);
  });

  it.each(['cancelled', 'timeout'])('follows a job the simulator ends as %s to a provider_error', async (status) => {
    const prompt = uniquePrompt(`ends as ${status} [sim:status=${status}]`);
    let step: ProviderStep = await submitJob(wavespeedAdapter, { ...job, input: { ...job.input, prompt } }, throughSimulator);
    for (let i = 0; i < 50 && step.state === 'pending'; i++) step = await pollJob(wavespeedAdapter, step.handle, throughSimulator);
    expect(step).toMatchObject({ state: 'failed', code: 'provider_error' });
  });

  it("is refused by the simulator when the Hunyuan edit gets size as W*H: WaveSpeed's edit page documents a ratio there, pixels as width/height", async () => {
    const edit = { model: 'wavespeed-ai/hunyuan-image-3-instruct/edit', input: { prompt: uniquePrompt('edit'), images: ['https://images.example.com/a.png'] } };
    const refused = await submitJob(wavespeedAdapter, { ...edit, input: { ...edit.input, size: '1280*720' } }, throughSimulator);
    expect(failureMessage(refused)).toContain('size: must be one of 1:1');
    let step: ProviderStep = await submitJob(wavespeedAdapter, { ...edit, input: { ...edit.input, size: '16:9', width: 1280, height: 720 } }, throughSimulator);
    for (let i = 0; i < 50 && step.state === 'pending'; i++) step = await pollJob(wavespeedAdapter, step.handle, throughSimulator);
    expect(await downloadedPngSize(succeededImages(step)[0]!)).toEqual({ width: 1280, height: 720 });
  });

  it('is refused by the simulator when a field is not in the model schema, as WaveSpeed refuses it', async () => {
    const step = await submitJob(wavespeedAdapter, { ...job, input: { ...job.input, size: '1000x700' } }, throughSimulator);
    expect(step).toMatchObject({ state: 'failed', code: 'provider_error' });
    expect(failureMessage(step)).toContain('size');
  });
});

describe('wavespeed adapter: reading the answers', () => {
  it('turns a created prediction into a pending step holding its id', async () => {
    const { call } = fake(envelope(prediction({ status: 'created' })));
    expect(await submitJob(wavespeedAdapter, job, call)).toEqual({ state: 'pending', handle: { id: 'pred_1', model: 'z-ai/cogview-4' } });
  });

  it('keeps following created and processing predictions', async () => {
    const { call } = fake(envelope(prediction({ status: 'created' })), envelope(prediction({ status: 'processing' })));
    const handle = { id: 'pred_1', model: job.model };
    expect(await pollJob(wavespeedAdapter, handle, call)).toEqual({ state: 'pending', handle });
    expect(await pollJob(wavespeedAdapter, handle, call)).toEqual({ state: 'pending', handle });
  });

  it('reads a completed prediction as its output URLs', async () => {
    const outputs = ['https://cdn.wavespeed.ai/a.png', 'https://cdn.wavespeed.ai/b.png'];
    const { call } = fake(envelope(prediction({ status: 'completed', outputs, has_nsfw_contents: [false, false] })));
    expect(await pollJob(wavespeedAdapter, { id: 'pred_1', model: job.model }, call)).toEqual({
      state: 'succeeded',
      images: outputs.map((url) => ({ url })),
    });
  });

  it('drops outputs flagged in has_nsfw_contents, and fails as moderated when all are', async () => {
    const outputs = ['https://cdn.wavespeed.ai/a.png', 'https://cdn.wavespeed.ai/b.png'];
    const some = fake(envelope(prediction({ status: 'completed', outputs, has_nsfw_contents: [true, false] })));
    expect(await pollJob(wavespeedAdapter, { id: 'pred_1', model: job.model }, some.call)).toEqual({
      state: 'succeeded',
      images: [{ url: outputs[1] }],
    });
    const all = fake(envelope(prediction({ status: 'completed', outputs, has_nsfw_contents: [true, true] })));
    expect(await pollJob(wavespeedAdapter, { id: 'pred_1', model: job.model }, all.call)).toMatchObject({
      state: 'failed',
      code: 'content_moderated',
    });
  });

  it('reads a failed prediction as provider_error, or content_moderated when its error is about the content', async () => {
    const failed = fake(envelope(prediction({ status: 'failed', error: 'Internal error: inference failed' })));
    const step = await pollJob(wavespeedAdapter, { id: 'pred_1', model: job.model }, failed.call);
    expect(step).toMatchObject({ state: 'failed', code: 'provider_error' });
    expect(failureMessage(step)).toContain('inference failed');
    const refused = fake(envelope(prediction({ status: 'failed', error: 'The prompt was flagged as sensitive by the content safety checker.' })));
    expect(await pollJob(wavespeedAdapter, { id: 'pred_1', model: job.model }, refused.call)).toMatchObject({
      state: 'failed',
      code: 'content_moderated',
    });
  });

  it.each([
    ['cancelled', 'The provider cancelled the job.'],
    ['timeout', 'The provider timed the job out.'],
    ['archived', 'The provider reported an unknown job status: archived'],
  ])('ends a %s prediction as provider_error at once, rather than polling it until the deadline', async (status, message) => {
    const { call } = fake(envelope(prediction({ status })));
    expect(await pollJob(wavespeedAdapter, { id: 'pred_1', model: job.model }, call)).toEqual({ state: 'failed', code: 'provider_error', message });
  });

  it('throws a retryable error for a prediction that does not match its schema', async () => {
    const { call } = fake(envelope(prediction({ status: 'completed', outputs: [42] })));
    await expectRetryable(pollJob(wavespeedAdapter, { id: 'pred_1', model: job.model }, call), { rateLimited: false });
  });

  it('reads a 404 on poll as a lost job', async () => {
    const { call } = fake(errorBody(404, 'prediction not found'));
    expect(await pollJob(wavespeedAdapter, { id: 'gone', model: job.model }, call)).toMatchObject({ state: 'failed', code: 'provider_error' });
  });

  it('throws a rate-limited retryable error on 429, with Retry-After', async () => {
    const { call } = fake(errorBody(429, 'Too many requests', { 'retry-after': '3' }));
    await expectRetryable(submitJob(wavespeedAdapter, job, call), { rateLimited: true, retryAfterMs: 3000 });
  });

  it('throws a retryable error on 5xx and on an answer without data.id', async () => {
    for (const response of [errorBody(503, 'Service temporarily unavailable'), Response.json({ code: 200, message: 'success' })]) {
      await expectRetryable(submitJob(wavespeedAdapter, job, fake(response).call), { rateLimited: false });
    }
  });

  it.each([
    ['402', errorBody(402, 'Payment required')],
    ['400 insufficient balance', errorBody(400, 'Insufficient balance, please top up your account.')],
  ])('reads an out-of-credit answer (%s) as provider_unavailable', async (_name, response) => {
    expect(await submitJob(wavespeedAdapter, job, fake(response).call)).toMatchObject(OUT_OF_CREDIT);
  });

  it('reads a rejected key (401) as provider_unavailable', async () => {
    expect(await submitJob(wavespeedAdapter, job, fake(errorBody(401, 'Unauthorized')).call)).toMatchObject(KEY_REJECTED);
  });

  it('reads a validation error (400) as provider_error carrying its message', async () => {
    const step = await submitJob(wavespeedAdapter, job, fake(errorBody(400, 'size: must be one of 1024*1024, 768*1344')).call);
    expect(step).toMatchObject({ state: 'failed', code: 'provider_error' });
    expect(failureMessage(step)).toContain('size: must be one of');
  });
});
