import { describe, expect, it } from 'vitest';
import { PROVIDERS } from '../../../src/providers';
import type { ProviderAdapter } from '../../../src/providers/adapter';
import { pollJob, submitJob } from '../../../src/providers/exchange';
import { ideogramAdapter, type IdeogramJob } from '../../../src/providers/ideogram.adapter';
import { imagenAdapter, ROUTE_RETIRED, type ImagenJob } from '../../../src/providers/imagen.adapter';
import { openaiAdapter, type OpenAIImageJob } from '../../../src/providers/openai.adapter';
import { recraftAdapter, type RecraftJob } from '../../../src/providers/recraft.adapter';
import type { ProviderStep } from '../../../src/providers/types';
import { wavespeedAdapter, type WavespeedJob } from '../../../src/providers/wavespeed.adapter';
import { xaiAdapter, type XaiJob } from '../../../src/providers/xai.adapter';
import { customer } from '../../helpers';
import { uniquePrompt } from '../../simulator-fixtures';
import { runToRefundedFailure, runTask } from '../../catalog/model-harness';
import { expectRetryable, jsonAnswer, KEY_REJECTED, OUT_OF_CREDIT, recordingCall, textAnswer } from '../adapter-harness';

/**
 * What the adapters rely on without a published source (`facts.unconfirmed` in each declaration),
 * and the proof that each is safe if wrong: the answer it would misread ends the task as a clear
 * failure with a refund (a final failed step, which the task refunds, or a retryable error, bounded
 * by the task's deadline), never a stuck task or a charge. One entry per declared `test` id.
 */

const refunded = (step: ProviderStep, code: string) => expect(step).toMatchObject({ state: 'failed', code });

const wavespeedJob: WavespeedJob = { model: 'kwaivgi/kling-image-o1', input: { prompt: 'p', num_images: 9 } };
const xaiJob: XaiJob = { model: 'grok-imagine-image', prompt: 'p', n: 1, aspect_ratio: '1:1', resolution: '1k' };
const openaiJob: OpenAIImageJob = { model: 'gpt-image-1.5', prompt: 'p', n: 1, size: 'auto', quality: 'auto', background: 'auto', output_format: 'png' };
const imagenJob: ImagenJob = {
  model: 'imagen-4.0-generate-001',
  prompt: 'p',
  parameters: { sampleCount: 1, aspectRatio: '1:1', sampleImageSize: '1K', personGeneration: 'allow_adult', includeRaiReason: true, outputOptions: { mimeType: 'image/png' } },
};
const ideogramJob: IdeogramJob = { route: 'ideogram-v3/generate', fields: { prompt: 'p' } };
const recraftJob: RecraftJob = { model: 'recraftv4', prompt: 'p', n: 1, size: '1024x1024' };

/** Submits `job` to `adapter`, answered with `answers` in turn. */
const submitted = <Job>(adapter: ProviderAdapter<Job>, job: Job, ...answers: Response[]) => submitJob(adapter, job, recordingCall(answers).call);

const googleError = (status: number, code: string, message: string) => jsonAnswer(status, { error: { code: status, status: code, message } });
const openaiError = (status: number, code: string | null, message = 'Something went wrong.') =>
  jsonAnswer(status, { error: { message, type: 'invalid_request_error', param: null, code } });

const SAFE_HANDLING: Record<string, () => Promise<void>> = {
  'wavespeed/error-envelope': async () => {
    refunded(await submitted(wavespeedAdapter, wavespeedJob, textAnswer(400, 'Bad Request')), 'provider_error');
    refunded(await submitted(wavespeedAdapter, wavespeedJob, jsonAnswer(400, { error: { detail: ['odd'] } })), 'provider_error');
  },
  'wavespeed/out-of-credit': async () => {
    refunded(await submitted(wavespeedAdapter, wavespeedJob, jsonAnswer(400, { code: 400, message: 'Account frozen: payment overdue' })), 'provider_error');
    expect(await submitted(wavespeedAdapter, wavespeedJob, jsonAnswer(402, {}))).toEqual(OUT_OF_CREDIT);
  },
  'wavespeed/moderation': async () => {
    const failed = jsonAnswer(200, { code: 200, message: 'success', data: { id: 'p1', status: 'failed', error: 'Rejected by policy' } });
    refunded(await pollJob(wavespeedAdapter, { id: 'p1', model: wavespeedJob.model }, recordingCall(failed).call), 'provider_error');
  },
  'wavespeed/model-limits': async () => {
    refunded(await submitted(wavespeedAdapter, wavespeedJob, jsonAnswer(400, { code: 400, message: 'num_images: must be at most 4' })), 'provider_error');
  },
  'xai/refused-prompt': async () => {
    // The documented shape of a refusal is an empty result; the task fails that as moderated, refunded.
    expect(await submitted(xaiAdapter, xaiJob, jsonAnswer(200, { data: [], usage: { cost_in_usd_ticks: 0 } }))).toEqual({ state: 'succeeded', images: [] });
    await runToRefundedFailure({ model: 'grok-imagine', prompt: uniquePrompt('A refused prompt [sim:moderate]') }, 'content_moderated');
  },
  'xai/filtered-output': async () => {
    refunded(await submitted(xaiAdapter, xaiJob, jsonAnswer(200, { data: [{ url: 'https://imgen.x.ai/p.png', respect_moderation: false }] })), 'content_moderated');
    // Without the flag nothing tells a placeholder apart: the documented residual risk.
    expect(await submitted(xaiAdapter, xaiJob, jsonAnswer(200, { data: [{ url: 'https://imgen.x.ai/p.png' }] }))).toMatchObject({ state: 'succeeded' });
  },
  'xai/out-of-credit': async () => {
    expect(await submitted(xaiAdapter, xaiJob, jsonAnswer(403, { code: 'Forbidden', error: 'Some new wording' }))).toEqual(KEY_REJECTED);
    await expectRetryable(submitted(xaiAdapter, xaiJob, jsonAnswer(429, { code: 'Too many', error: 'Some new wording' })), { rateLimited: true });
  },
  'openai/observed-codes': async () => {
    refunded(await submitted(openaiAdapter, openaiJob, openaiError(400, 'content_policy_violation', 'Rejected.')), 'provider_error');
    await expectRetryable(submitted(openaiAdapter, openaiJob, openaiError(429, null, 'Billing hard limit reached.')), { rateLimited: true });
  },
  'openai/input-image-codes': async () => {
    refunded(await submitted(openaiAdapter, { ...openaiJob, images: [{ image_url: 'https://x.example/a.png' }] }, openaiError(400, 'image_unreadable')), 'provider_error');
  },
  'imagen/route-retired': async () => {
    const notFound = googleError(404, 'NOT_FOUND', 'models/imagen-4.0-generate-001 is not found for API version v1beta, or is not supported for predict.');
    expect(await submitted(imagenAdapter, imagenJob, notFound)).toEqual(ROUTE_RETIRED);
    const vertexOnly = googleError(400, 'FAILED_PRECONDITION', 'This method is only supported by the Gemini Enterprise Agent Platform (previously Vertex AI).');
    expect(await submitted(imagenAdapter, imagenJob, vertexOnly)).toEqual(ROUTE_RETIRED);
    refunded(await submitted(imagenAdapter, imagenJob, googleError(400, 'FAILED_PRECONDITION', 'Precondition check failed.')), 'provider_error');
  },
  'imagen/messages': async () => {
    refunded(await submitted(imagenAdapter, imagenJob, googleError(400, 'INVALID_ARGUMENT', 'Request contains an invalid argument.')), 'provider_error');
  },
  'ideogram/out-of-credit': async () => {
    expect(await submitted(ideogramAdapter, ideogramJob, jsonAnswer(402, { detail: 'Insufficient credits or quota.' }))).toEqual(OUT_OF_CREDIT);
    refunded(await submitted(ideogramAdapter, ideogramJob, jsonAnswer(400, { detail: 'Your plan does not allow this request.' })), 'provider_error');
  },
  'ideogram/limits': async () => {
    refunded(await submitted(ideogramAdapter, ideogramJob, jsonAnswer(400, { detail: 'prompt is too long' })), 'provider_error');
  },
  'recraft/moderation': async () => {
    refunded(await submitted(recraftAdapter, recraftJob, textAnswer(400, 'prompt rejected')), 'provider_error');
    expect(await submitted(recraftAdapter, recraftJob, jsonAnswer(200, { created: 1, credits: 0, data: [] }))).toEqual({ state: 'succeeded', images: [] });
  },
  'recraft/out-of-credit': async () => {
    refunded(await submitted(recraftAdapter, recraftJob, textAnswer(400, 'payment required')), 'provider_error');
  },
  'recraft/rate-limit': async () => {
    await expectRetryable(submitted(recraftAdapter, recraftJob, textAnswer(429, 'too many requests')), { rateLimited: true });
    refunded(await submitted(recraftAdapter, recraftJob, textAnswer(400, 'slow down')), 'provider_error');
  },
};

describe('facts the providers do not publish, each handled safely', () => {
  it('has a safe-handling test for every unconfirmed fact the adapters declare, and none for undeclared ones', () => {
    const declared = PROVIDERS.flatMap((p) => p.facts?.unconfirmed.map((f) => f.test) ?? []);
    expect(declared.sort()).toEqual(Object.keys(SAFE_HANDLING).sort());
  });

  it.each(Object.entries(SAFE_HANDLING))('%s', async (_id, prove) => prove());
});

describe('Imagen 4, whose Gemini API route Google disabled in 2026-08', () => {
  it('fails the disabled route as provider_unavailable and refunds in full', async () => {
    const { task } = await runToRefundedFailure({ model: 'imagen-4', prompt: uniquePrompt('A red bicycle [sim:gone]') }, 'provider_unavailable');
    expect(task.error?.message).toContain('no longer served on the Gemini API');
  });

  it('is still in the catalog, and served while the (simulated) route answers', async () => {
    const { auth } = await customer(undefined, 100);
    const { task } = await runTask(auth, { model: 'imagen-4', prompt: uniquePrompt('A red bicycle') });
    expect(task.status).toBe('succeeded');
  });
});
