import { z } from 'zod';
import { defineSyncAdapter, errorText, KEY_REJECTED, type ProviderFacts, type RequestContext } from './adapter';
import type { FinalStep, ProviderImage } from './types';

/**
 * xAI image generation (https://docs.x.ai/developers/model-capabilities/images/generation), sync:
 * `POST /v1/images/generations` with `Authorization: Bearer`, an OpenAI-style body plus xAI's own
 * `aspect_ratio` and `resolution` (`size` and `style` are not supported), answered
 * `{ data: [{ url | b64_json, mime_type }], usage }` (`GeneratedImageResponse` in xAI's OpenAPI).
 *
 * Moderation is not in the REST description. A refused prompt is reported as `data: []` (an empty
 * result, which the task fails as moderated and refunds); `block_reason` (seen nowhere published)
 * and `respect_moderation: false` (xAI's gRPC proto only) are read when present, never required.
 * Errors are `{ code, error: "<text>" }`, `{ error: { message, type, code } }` or `{ message }`, as
 * xAI's SDK reads them. What xAI says for an exhausted balance is unpublished; see `facts.unconfirmed`.
 */
export interface XaiJob {
  model: string;
  prompt: string;
  /** 1–10 images. */
  n: number;
  aspect_ratio: string;
  resolution: '1k' | '2k';
}

const Image = z.object({
  url: z.string().nullish(),
  b64_json: z.string().nullish(),
  mime_type: z.string().nullish(),
  respect_moderation: z.boolean().nullish(),
});
const Generated = z.object({ data: z.array(Image).nullish(), block_reason: z.string().nullish() });

/** `{ code, error: "<text>" }`, `{ error: { message, type, code } }` or `{ message }`, as xAI's SDK reads them. */
const ErrorBody = z.object({
  error: z.union([z.string().min(1), z.object({ message: errorText })]).optional().catch(undefined),
  message: errorText,
});

const OUT_OF_CREDIT = /credits|spending limit/i;
const BAD_KEY = /api key/i;
const MODERATION = /moderat|content polic|safety|nsfw/i;

function imageOf(item: z.infer<typeof Image>, context: RequestContext): ProviderImage[] {
  if (item.respect_moderation === false) return [];
  if (item.url) return [{ url: item.url }];
  if (item.b64_json) return [context.inline(item.b64_json)];
  return [];
}

function resultOf(answer: z.infer<typeof Generated>, context: RequestContext): FinalStep {
  if (answer.block_reason) {
    return { state: 'failed', code: 'content_moderated', message: `The prompt was refused by moderation: ${answer.block_reason}` };
  }
  const items = answer.data ?? [];
  const images = items.flatMap((item) => imageOf(item, context));
  if (items.length > 0 && images.length === 0) {
    return { state: 'failed', code: 'content_moderated', message: 'The generated images were blocked by moderation.' };
  }
  return { state: 'succeeded', images };
}

const OPENAPI = 'xAI OpenAPI (api.x.ai/api-docs/openapi.json) as generated into xai-org/xai-sdk-ts@41e766ac src/generated/types.ts';

/** What xAI publishes (test/fixtures/providers/xai.json restates it). */
const facts: ProviderFacts = {
  description: { source: `${OPENAPI}; xai-org/xai-proto image.proto`, readOn: '2026-11-26', fixture: 'xai.json' },
  endpoints: ['POST /v1/images/generations'],
  limits: {
    imagesPerRequest: { value: 10, source: `${OPENAPI}: n ≤ 10; xai-proto image.proto` },
    unpublished: ['rate limits', 'concurrency', 'result URL lifetime (documented only as short-lived)'],
    slots: {
      value: 4,
      source:
        'our conservative guess: docs.x.ai/developers/rate-limits (read 2026-11-26) sets per-model requests per second by team tier and shows Imagine limits only in the console (raised through sales); no concurrency is published',
    },
  },
  webhooks: {
    value: { supported: false, how: 'deferred: true, then polling GET /v1/images/{request_id} (not used)' },
    source: OPENAPI,
  },
  unconfirmed: [
    {
      fact: 'block_reason: a refusal field on a 200 answer, in no published source',
      safeHandling: 'Read only when present; a refusal in the documented shape (data: []) is an empty result, which the task fails as content_moderated and refunds.',
      test: 'xai/refused-prompt',
      fields: ['block_reason'],
    },
    {
      fact: 'respect_moderation: false on a filtered image (xAI gRPC proto only, not the REST schema)',
      safeHandling: 'Read only when present; without it a filtered image cannot be told from a real one (residual risk: a placeholder would be delivered and charged).',
      test: 'xai/filtered-output',
      fields: ['data[].respect_moderation'],
    },
    {
      fact: 'The out-of-credit answer (403 "doesn\'t have any credits" or 429 "used all available credits", from user reports)',
      safeHandling: 'A 403 is refused credentials either way (refunded provider_unavailable); a 429 worded otherwise is retried as a rate limit, bounded by the task deadline, then refunded.',
      test: 'xai/out-of-credit',
    },
  ],
};

export const xaiAdapter = defineSyncAdapter({
  provider: { id: 'xai', baseUrlVar: 'XAI_BASE_URL', secret: 'XAI_API_KEY', defaultBaseUrl: 'https://api.x.ai', facts },
  mode: 'sync',
  auth: (key) => ({ authorization: `Bearer ${key}` }),
  submit: {
    // URLs rather than base64: a smaller answer, and the copy to R2 can be retried on its own.
    request: (job: XaiJob) => ({ url: '/v1/images/generations', json: { ...job, response_format: 'url' } }),
    answer: Generated,
    inlineImages: ['b64_json'],
    read: (answer, _job, context) => resultOf(answer, context),
  },
  errors: {
    schema: ErrorBody,
    message: ({ error, message }) => (typeof error === 'string' ? error : error?.message) ?? message,
    // An exhausted balance also comes as 429 or 403; waiting for it would only delay the same answer.
    outOfCredit: ({ message }) => OUT_OF_CREDIT.test(message),
    refusal: ({ message }) => {
      if (BAD_KEY.test(message)) return KEY_REJECTED;
      if (MODERATION.test(message)) return { state: 'failed', code: 'content_moderated', message: `The provider refused the content: ${message}` };
      return undefined;
    },
  },
});
