import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineSyncAdapter, errorText, JOB_LOST } from '../../src/providers/adapter';
import { httpFailure, submitJob } from '../../src/providers/exchange';
import type { FinalStep } from '../../src/providers/types';
import { expectRetryable, jsonAnswer, KEY_REJECTED, OUT_OF_CREDIT, recordingCall, textAnswer } from './adapter-harness';

/** A provider with no rules of its own: what every adapter gets from the shared code. */
const plain = defineSyncAdapter({
  provider: { id: 'probe', baseUrlVar: 'BFL_BASE_URL', secret: 'BFL_API_KEY', defaultBaseUrl: 'https://probe.example' },
  mode: 'sync',
  auth: (key) => ({ authorization: `Bearer ${key}` }),
  submit: {
    request: (job: { prompt: string }) => ({ url: '/v1/images', json: job }),
    answer: z.object({ urls: z.array(z.string()) }),
    read: ({ urls }) => ({ state: 'succeeded', images: urls.map((url) => ({ url })) }),
  },
  errors: { schema: z.object({ message: errorText }), message: (body) => body.message },
});

const submitAnswering = (...answers: Response[]) =>
  submitJob(plain, { prompt: 'p' }, recordingCall(answers, { env: { BFL_BASE_URL: 'https://probe.example', BFL_API_KEY: 'k' } }).call);
const failure = (status: number, phase: 'submit' | 'poll' = 'submit') => ({ status, body: undefined, message: 'words', phase });

describe('provider HTTP failures, mapped once for every adapter', () => {
  it.each([
    [401, KEY_REJECTED],
    [403, KEY_REJECTED],
    [402, OUT_OF_CREDIT],
    [400, { state: 'failed', code: 'provider_error', message: 'Provider rejected the request: no such size' }],
    [404, { state: 'failed', code: 'provider_error', message: 'Provider rejected the request: no such size' }],
    [409, { state: 'failed', code: 'provider_error', message: 'Provider rejected the request: no such size' }],
    [422, { state: 'failed', code: 'provider_error', message: 'Provider rejected the request: no such size' }],
  ])('answers %i with a final step', async (status, step) => {
    expect(await submitAnswering(jsonAnswer(status, { message: 'no such size' }))).toEqual(step);
  });

  it('reads a 404 while polling as a lost job', () => {
    expect(httpFailure('probe', {}, failure(404, 'poll'))).toEqual(JOB_LOST);
  });

  it('throws a rate-limited retryable error for 429, waiting Retry-After in seconds or until its date', async () => {
    await expectRetryable(submitAnswering(jsonAnswer(429, {}, { 'retry-after': '7' })), { rateLimited: true, retryAfterMs: 7000 });
    await expectRetryable(submitAnswering(jsonAnswer(429, {})), { rateLimited: true, retryAfterMs: undefined });
    const later = new Date(Date.now() + 60_000).toUTCString();
    const error = await submitAnswering(jsonAnswer(429, {}, { 'retry-after': later })).catch((err: unknown) => err);
    expect(error).toMatchObject({ rateLimited: true, retryAfterMs: expect.any(Number) });
  });

  it.each([408, 500, 502, 503, 504, 529])('throws a plain retryable error for %i', async (status) => {
    await expectRetryable(submitAnswering(jsonAnswer(status, { message: 'busy' })), { rateLimited: false });
  });

  it('throws a retryable error when the network fails', async () => {
    await expectRetryable(submitAnswering(), { rateLimited: false });
  });

  it('throws a retryable error for a 2xx that is not JSON or does not match the answer schema', async () => {
    await expectRetryable(submitAnswering(new Response('<html>ok</html>')), { rateLimited: false });
    await expectRetryable(submitAnswering(jsonAnswer(200, { urls: 'https://x/a.png' })), { rateLimited: false });
    expect(await submitAnswering(jsonAnswer(200, { urls: ['https://x/a.png'], extra: true }))).toEqual({ state: 'succeeded', images: [{ url: 'https://x/a.png' }] });
  });

  it("takes the provider's words from its error schema, else from a text body, else the status", async () => {
    const message = async (answer: Response) => ((await submitAnswering(answer)) as Extract<FinalStep, { state: 'failed' }>).message;
    expect(await message(jsonAnswer(400, { message: 'bad prompt' }))).toBe('Provider rejected the request: bad prompt');
    expect(await message(textAnswer(400, '  plain words  '))).toBe('Provider rejected the request: plain words');
    expect(await message(jsonAnswer(400, { message: 42 }))).toBe('Provider rejected the request: HTTP 400');
    expect(await message(jsonAnswer(400, ['not', 'an', 'object']))).toBe('Provider rejected the request: HTTP 400');
  });

  it("puts an adapter's empty-balance rule before the rate limit and the key rule, and never before a 5xx", () => {
    const rules = { outOfCredit: () => true };
    expect(httpFailure('probe', rules, failure(429))).toEqual(OUT_OF_CREDIT);
    expect(httpFailure('probe', rules, failure(403))).toEqual(OUT_OF_CREDIT);
    expect(() => httpFailure('probe', rules, failure(503))).toThrow('probe answered 503');
  });

  it("asks an adapter's own refusals only about the other 4xx", () => {
    const moderated: FinalStep = { state: 'failed', code: 'content_moderated', message: 'flagged' };
    const rules = { refusal: () => moderated };
    expect(httpFailure('probe', rules, failure(400))).toEqual(moderated);
    expect(httpFailure('probe', rules, failure(404, 'poll'))).toEqual(moderated);
    expect(httpFailure('probe', rules, failure(401))).toEqual(KEY_REJECTED);
    expect(httpFailure('probe', rules, failure(402))).toEqual(OUT_OF_CREDIT);
    expect(() => httpFailure('probe', rules, failure(429))).toThrow('probe rate limit');
    expect(() => httpFailure('probe', rules, failure(500))).toThrow('probe answered 500');
  });
});
