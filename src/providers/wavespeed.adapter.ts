import { z } from 'zod';
import { defineAsyncAdapter, errorText, type JobStep, type ProviderFacts } from './adapter';
import type { Json } from './types';

/**
 * WaveSpeedAI v3 (https://wavespeed.ai/docs): `POST /api/v3/{model}` with `Authorization: Bearer`,
 * the model's own fields as the JSON body, answered `{ code, message, data: { id, status, outputs,
 * has_nsfw_contents, error, urls } }`; then `GET /api/v3/predictions/{id}/result` (same envelope)
 * until `data.status` is `completed` or `failed` (before that `created` or `processing`). WaveSpeed's
 * SDKs also end a prediction on `cancelled` and `timeout`. Outputs are CDN URLs kept for 7 days;
 * `has_nsfw_contents[i]` flags output i.
 *
 * WaveSpeed does not publish the error envelope of non-200 answers (read as `{ code, message }`), its
 * out-of-credit answer (recognised by status 402 or its words) or how a refused prompt is reported
 * (read from the `error` text of a failed prediction): see `facts.unconfirmed` for why each is safe.
 */
export interface WavespeedJob {
  /** The model's path under `/api/v3/`, e.g. `z-ai/cogview-4`. */
  model: string;
  /** The model's own input fields, sent unchanged as the JSON body. */
  input: { prompt: string; [field: string]: Json };
}

/** WaveSpeed spells sizes `W*H`. */
export const wavespeedSize = (width: number, height: number): string => `${width}*${height}`;

const Handle = z.object({ id: z.string().min(1), model: z.string() });
type WavespeedHandle = z.infer<typeof Handle>;

/** The envelope around a prediction, on submit and on every poll. */
const Envelope = z.object({
  data: z.object({
    id: z.string().min(1),
    status: z.string(),
    outputs: z.array(z.string()).nullish(),
    has_nsfw_contents: z.array(z.boolean()).nullish(),
    error: z.string().nullish(),
  }),
});
type Prediction = z.infer<typeof Envelope>['data'];

const ErrorBody = z.object({ message: errorText, error: errorText });

const OUT_OF_CREDIT = /insufficient|balance|top[- ]?up|credit/i;
const MODERATION = /nsfw|sensitive|safety|moderat|flagged|content polic|inappropriate/i;

/**
 * Where a prediction stands; flagged outputs are dropped, as the customer cannot be given them. Any
 * status but `created` and `processing` ends the job: `cancelled`, `timeout` and statuses WaveSpeed
 * may add would otherwise be polled until the task's deadline.
 */
function stepOf(prediction: Prediction, handle: WavespeedHandle): JobStep<WavespeedHandle> {
  const error = prediction.error || 'no detail';
  switch (prediction.status) {
    case 'created':
    case 'processing':
      return { state: 'pending', handle };
    case 'completed': {
      const outputs = prediction.outputs ?? [];
      const flags = prediction.has_nsfw_contents ?? [];
      const clean = outputs.filter((_, i) => flags[i] !== true);
      if (outputs.length > 0 && clean.length === 0) {
        return { state: 'failed', code: 'content_moderated', message: 'The generated image was flagged by moderation.' };
      }
      return { state: 'succeeded', images: clean.map((url) => ({ url })) };
    }
    case 'failed':
      if (MODERATION.test(error)) {
        return { state: 'failed', code: 'content_moderated', message: `The provider refused the content: ${error}` };
      }
      return { state: 'failed', code: 'provider_error', message: `The provider failed to generate the image: ${error}` };
    case 'cancelled':
      return { state: 'failed', code: 'provider_error', message: 'The provider cancelled the job.' };
    case 'timeout':
      return { state: 'failed', code: 'provider_error', message: 'The provider timed the job out.' };
    default:
      return { state: 'failed', code: 'provider_error', message: `The provider reported an unknown job status: ${prediction.status.slice(0, 100)}` };
  }
}

const LEVELS = 'wavespeed.ai/docs/account-levels';

/** What WaveSpeed publishes (test/fixtures/providers/wavespeed.json restates it). */
const facts: ProviderFacts = {
  description: {
    source: 'wavespeed.ai/docs (get-result, predictions, webhooks, account levels, per-model pages); SDKs wavespeed-python, wavespeed-javascript',
    readOn: '2026-11-26',
    fixture: 'wavespeed.json',
  },
  endpoints: ['POST /api/v3/{model}', 'GET /api/v3/predictions/{id}/result'],
  limits: {
    concurrentJobs: { value: 2, source: `${LEVELS}: Bronze, the level of a new account; extra tasks wait in a queue` },
    imagesPerMinute: { value: 2, source: `${LEVELS}: Bronze` },
    tiers: {
      value: {
        bronze: { concurrentJobs: 2, imagesPerMinute: 2 },
        silver: { concurrentJobs: 300, imagesPerMinute: 500 },
        gold: { concurrentJobs: 3000, imagesPerMinute: 3000 },
        ultra: { concurrentJobs: 10000, imagesPerMinute: 5000 },
      },
      source: `${LEVELS} (silver after a $100 top-up, gold $1,000, ultra $10,000)`,
    },
    resultUrlLifetimeSeconds: { value: 7 * 24 * 3600, source: 'wavespeed.ai/docs/what-are-predictions: predictions and outputs are deleted after 7 days' },
    minPollIntervalMs: { value: 2000, source: 'wavespeed.ai/docs/get-result: poll images every 2 s or more' },
    replaySubmitAfter5xx: { value: false, source: 'wavespeed-python@a4207182 client.py retries 429/5xx on GET only, never a submit' },
    slots: {
      value: 2,
      source: `concurrentJobs, ${LEVELS} (read 2026-11-26): Bronze, a new account's level; WaveSpeed queues the excess itself, so set PROVIDER_CAPACITY to the account's level (Silver 300)`,
    },
  },
  webhooks: {
    value: {
      supported: true,
      how: '?webhook=<https URL> on the submit URL',
      verification: 'webhook-id, webhook-timestamp, webhook-signature (v3, HMAC-SHA256)',
    },
    source: 'wavespeed.ai/docs/how-to-use-webhooks (POSTed when the task completes or fails); wavespeed.ai/docs/docs-api/verifying_webhook (both read 2026-11-26)',
  },
  unconfirmed: [
    {
      fact: 'The body of non-200 answers (read as { code, message })',
      safeHandling: 'The status decides, the body only lends its words: any unreadable body still ends as the shared rule says (a 4xx as a refunded failure).',
      test: 'wavespeed/error-envelope',
    },
    {
      fact: 'The out-of-credit answer (402, or a 4xx whose words say balance or credit)',
      safeHandling: 'Worded otherwise, it is still a 4xx: a refunded provider_error instead of provider_unavailable.',
      test: 'wavespeed/out-of-credit',
    },
    {
      fact: 'How a refused prompt is reported (a failed prediction whose error names the content)',
      safeHandling: 'A failed prediction with other words is a refunded provider_error instead of content_moderated.',
      test: 'wavespeed/moderation',
    },
    {
      fact: 'Model limits published only by third parties: Kling num_images 1–9, CogView-4 prompt 1000 characters, HunyuanImage 3.0 prompt 4000 characters and its text-to-image size as W*H',
      safeHandling: 'A stricter real limit answers 400: a refunded provider_error, never a charge.',
      test: 'wavespeed/model-limits',
    },
  ],
};

export const wavespeedAdapter = defineAsyncAdapter({
  provider: { id: 'wavespeed', baseUrlVar: 'WAVESPEED_BASE_URL', secret: 'WAVESPEED_API_KEY', defaultBaseUrl: 'https://api.wavespeed.ai', facts },
  mode: 'async',
  // `cancelled` and `timeout` are in WaveSpeed's SDKs (wavespeed-python client.py `_wait`), not its docs.
  statuses: { pending: ['created', 'processing'], final: ['completed', 'failed', 'cancelled', 'timeout'] },
  auth: (key) => ({ authorization: `Bearer ${key}` }),
  handle: Handle,
  submit: {
    request: (job: WavespeedJob, { callbackUrl }) => ({
      url: `/api/v3/${job.model}${callbackUrl ? `?webhook=${encodeURIComponent(callbackUrl)}` : ''}`,
      json: job.input,
    }),
    answer: Envelope,
    read: ({ data }, job) => stepOf(data, { id: data.id, model: job.model }),
  },
  poll: {
    // Built from our base URL rather than `data.urls.get`, so our key only ever goes to our host.
    request: (handle: WavespeedHandle) => ({ url: `/api/v3/predictions/${encodeURIComponent(handle.id)}/result` }),
    answer: Envelope,
    read: ({ data }, handle) => stepOf(data, handle),
  },
  errors: {
    schema: ErrorBody,
    message: (body) => body.message ?? body.error,
    outOfCredit: ({ message }) => OUT_OF_CREDIT.test(message),
  },
});
