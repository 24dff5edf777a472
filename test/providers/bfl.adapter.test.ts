import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { flux2 } from '../../src/catalog/flux-2';
import { bflAdapter, bflInputImageFields, type BflJob } from '../../src/providers/bfl.adapter';
import { pollJob, submitJob } from '../../src/providers/exchange';
import type { ProviderStep } from '../../src/providers/types';
import { firstJsonRequest, uniquePrompt } from '../simulator-fixtures';
import {
  asyncNode,
  downloadedPngSize,
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

const BASE = 'https://api.bfl.ai';
const KEY = 'bfl-test-key';
const job: BflJob = { endpoint: 'flux-2-pro', body: { prompt: 'a red fox in snow', width: 1024, height: 768, output_format: 'png' } };
const handle = { id: 'task_1', polling_url: `${BASE}/v1/get_result?id=task_1` };

/** A call whose fetch records what the adapter sends to BFL and answers with `responses` in turn. */
const fake = (...responses: Response[]) => recordingCall(responses, { env: { BFL_BASE_URL: BASE, BFL_API_KEY: KEY } });
/** A `GET polling_url` answer with this status. */
const status = (value: string, result: unknown = null) => jsonAnswer(200, { id: 'task_1', status: value, result, progress: null, details: null });
const poll = (...responses: Response[]) => pollJob(bflAdapter, handle, fake(...responses).call);

describe('bfl adapter: the requests', () => {
  it('posts the job body to /v1/{endpoint} with x-key, and keeps id and polling_url as the handle', async () => {
    const { call, sent } = fake(jsonAnswer(200, { ...handle, cost: 3, input_mp: 0, output_mp: 0.79 }));
    expect(await submitJob(bflAdapter, { ...job, body: { ...job.body, ...bflInputImageFields(['https://x/a.png', 'https://x/b.png']) } }, call)).toEqual({
      state: 'pending',
      handle,
    });
    const request = onlyRequest(sent);
    expect(request.url).toBe(`${BASE}/v1/flux-2-pro`);
    expect(request.method).toBe('POST');
    expect(request.headers.get('x-key')).toBe(KEY);
    expect(request.headers.get('content-type')).toBe('application/json');
    expect(sentJson(request)).toEqual({ ...job.body, input_image: 'https://x/a.png', input_image_2: 'https://x/b.png' });
  });

  it('polls the polling_url with x-key, on a regional host of the same parent domain too', async () => {
    const regional = { id: 'task_2', polling_url: 'https://api.eu2.bfl.ai/v1/get_result?id=task_2' };
    const { call, sent } = fake(jsonAnswer(200, regional), status('Pending'));
    const submitted = await submitJob(bflAdapter, job, call);
    expect(submitted).toEqual({ state: 'pending', handle: regional });
    expect(await pollJob(bflAdapter, regional, call)).toEqual({ state: 'pending', handle: regional });
    expect(sent[1]!).toMatchObject({ url: regional.polling_url, method: 'GET', body: null });
    expect(sent[1]!.headers.get('x-key')).toBe(KEY);
  });

  it('never sends the key to a polling_url on another host: the submit is retried instead', async () => {
    await expectRetryable(submitJob(bflAdapter, job, fake(jsonAnswer(200, { id: 'x', polling_url: 'https://evil.example/poll' })).call), {
      rateLimited: false,
    });
  });

  it('names reference images input_image, input_image_2 … input_image_8', () => {
    expect(Object.keys(bflInputImageFields(Array.from({ length: 8 }, (_, i) => `https://x/${i}.png`)))).toEqual([
      'input_image',
      ...[2, 3, 4, 5, 6, 7, 8].map((n) => `input_image_${n}`),
    ]);
  });

  it('is an async provider: its node polls', () => {
    expect(bflAdapter.mode).toBe('async');
    expect(asyncNode(flux2.nodes[0])).toMatchObject({ id: 'node41', provider: 'bfl', secret: 'BFL_API_KEY' });
  });
});

describe('bfl adapter: the six published statuses, and any other', () => {
  it('keeps following a Pending job and hands over result.sample when Ready', async () => {
    expect(await poll(status('Pending'))).toEqual({ state: 'pending', handle });
    expect(await poll(status('Ready', { sample: 'https://delivery.bfl.ai/a.png', seed: 1 }))).toEqual({
      state: 'succeeded',
      images: [{ url: 'https://delivery.bfl.ai/a.png' }],
    });
  });

  it.each([
    ['Request Moderated', 'content_moderated'],
    ['Content Moderated', 'content_moderated'],
    ['Error', 'provider_error'],
    ['Task not found', 'provider_error'],
  ])('ends a job in status %s as %s', async (value, code) => {
    expect(await poll(status(value))).toMatchObject({ state: 'failed', code });
  });

  it.each(['Queued', 'Processing', 'Failed', ''])('fails an unpublished status (%j) at once as provider_error, as BFL’s SDK does, instead of polling forever', async (value) => {
    const step = await poll(status(value));
    expect(step).toMatchObject({ state: 'failed', code: 'provider_error' });
    expect(failureMessage(step)).toContain('unknown job status');
  });

  it('retries a Ready answer without result.sample, and an answer without a status, as malformed', async () => {
    await expectRetryable(poll(status('Ready')), { rateLimited: false });
    await expectRetryable(poll(jsonAnswer(200, { id: 'task_1' })), { rateLimited: false });
  });

  it('follows a job the simulator ends in an unpublished status to a provider_error', async () => {
    const prompt = uniquePrompt('a fox [sim:status=Queued]');
    let step: ProviderStep = await submitJob(bflAdapter, { ...job, body: { ...job.body, prompt } }, throughSimulator);
    for (let i = 0; i < 50 && step.state === 'pending'; i++) step = await pollJob(bflAdapter, step.handle, throughSimulator);
    expect(step).toMatchObject({ state: 'failed', code: 'provider_error' });
  });
});

describe('bfl adapter: failures', () => {
  it.each([
    ['detail', { detail: 'Prompt is too long' }, 'Prompt is too long'],
    ['message', { message: 'Width must be a multiple of 16' }, 'Width must be a multiple of 16'],
    ['error', { error: 'Unsupported output_format' }, 'Unsupported output_format'],
  ])('reads the error text from %s', async (_field, body, text) => {
    const step = await submitJob(bflAdapter, job, fake(jsonAnswer(400, body)).call);
    expect(step).toEqual({ state: 'failed', code: 'provider_error', message: `Provider rejected the request: ${text}` });
  });

  it("reads FastAPI's 422 detail list as its JSON", async () => {
    const detail = [{ loc: ['body', 'width'], msg: 'Input should be a multiple of 16', type: 'value_error' }];
    expect(failureMessage(await submitJob(bflAdapter, job, fake(jsonAnswer(422, { detail })).call))).toContain('Input should be a multiple of 16');
  });

  it('reads 402 as out of credit and 401/403 as a rejected key', async () => {
    expect(await submitJob(bflAdapter, job, fake(jsonAnswer(402, { detail: 'Insufficient credits' })).call)).toEqual(OUT_OF_CREDIT);
    expect(await submitJob(bflAdapter, job, fake(jsonAnswer(403, { detail: 'Not authenticated' })).call)).toEqual(KEY_REJECTED);
    expect(await poll(jsonAnswer(401, { detail: 'Not authenticated' }))).toEqual(KEY_REJECTED);
  });

  it('throws a rate-limited retryable error on 429 with Retry-After, and a plain one on 5xx', async () => {
    await expectRetryable(submitJob(bflAdapter, job, fake(jsonAnswer(429, { detail: 'Too many active tasks' }, { 'retry-after': '5' })).call), {
      rateLimited: true,
      retryAfterMs: 5000,
    });
    await expectRetryable(poll(jsonAnswer(503, { detail: 'unavailable' })), { rateLimited: false });
  });
});

describe('bfl adapter against the simulator', () => {
  it('is accepted by the simulator, which validates like BFL, and follows the job to a PNG', async () => {
    const prompt = uniquePrompt('contract run');
    let step: ProviderStep = await submitJob(bflAdapter, { ...job, body: { ...job.body, prompt } }, throughSimulator);
    for (let i = 0; i < 50 && step.state === 'pending'; i++) step = await pollJob(bflAdapter, step.handle, throughSimulator);
    const [image] = succeededImages(step);
    expect(await downloadedPngSize(image!)).toEqual({ width: 1024, height: 768 });
    expect((await firstJsonRequest('/v1/flux-2-pro', prompt)).headers['x-key']).toBe(env.BFL_API_KEY);
  });
});
