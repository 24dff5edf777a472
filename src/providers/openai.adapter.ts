import { z } from 'zod';
import { defineSyncAdapter, errorText, type ProviderFacts } from './adapter';
import type { FailureCode } from './types';

/**
 * OpenAI Images API for GPT Image models (https://platform.openai.com/docs/api-reference/images),
 * synchronous: `POST /v1/images/generations`, or `POST /v1/images/edits` when reference images are
 * given, each with `Authorization: Bearer`. Edits go as JSON with `images: [{ image_url }]` (a URL or
 * data URL OpenAI fetches itself), which the API reference documents for GPT Image models. GPT Image
 * models always answer base64 (`data[].b64_json`); there is no URL option and no `response_format`.
 */
export interface OpenAIImageJob {
  model: string;
  prompt: string;
  n: number;
  size: string;
  quality: string;
  background: string;
  output_format: 'png' | 'jpeg' | 'webp';
  /** Reference images: their presence makes the job an edit. */
  images?: { image_url: string }[];
}

/** The `images` field of an edit for the customer's reference URLs, or nothing for a generation. */
export function openAIImageRefs(urls: readonly string[]): Pick<OpenAIImageJob, 'images'> {
  return urls.length > 0 ? { images: urls.map((image_url) => ({ image_url })) } : {};
}

const Generated = z.object({ data: z.array(z.object({ b64_json: z.string().min(1) })) });

/** `{ error: { type, message, param, code } }` (OpenAI's `ErrorResponse`). */
const ErrorBody = z.object({ error: z.object({ message: errorText, type: errorText, code: errorText }) });

/**
 * The `error.code`s of a 4xx we tell apart, and what each means. `moderation_blocked` is what OpenAI
 * answers (observed, not in its OpenAPI). The image codes are the ones OpenAI's OpenAPI enumerates
 * for input images (`ResponseErrorCode`, openai/openai-openapi@f85dbe22); it publishes no list for
 * the Images API itself, so any other 4xx stays a refunded `provider_error`.
 */
export const OPENAI_REFUSAL_CODES: Readonly<Record<string, FailureCode>> = {
  moderation_blocked: 'content_moderated',
  image_content_policy_violation: 'content_moderated',
  invalid_image: 'invalid_input_image',
  invalid_image_format: 'invalid_input_image',
  invalid_base64_image: 'invalid_input_image',
  invalid_image_url: 'invalid_input_image',
  image_too_large: 'invalid_input_image',
  image_too_small: 'invalid_input_image',
  image_parse_error: 'invalid_input_image',
  invalid_image_mode: 'invalid_input_image',
  image_file_too_large: 'invalid_input_image',
  unsupported_image_media_type: 'invalid_input_image',
  empty_image_file: 'invalid_input_image',
  failed_to_download_image: 'invalid_input_image',
  image_file_not_found: 'invalid_input_image',
};

/** The `error.code` (or `type`) of a 429 that is an exhausted balance, not load (observed, not in the OpenAPI). */
export const OPENAI_OUT_OF_CREDIT_CODE = 'insufficient_quota';

const OPENAPI = 'openai/openai-openapi@f85dbe22 openapi.json';

/** What OpenAI publishes (test/fixtures/providers/openai.json restates it). */
const facts: ProviderFacts = {
  description: { source: `${OPENAPI} (CreateImageRequest, EditImageBodyJsonParam, ImagesResponse, ErrorResponse)`, readOn: '2026-11-26', fixture: 'openai.json' },
  endpoints: ['POST /v1/images/generations', 'POST /v1/images/edits'],
  limits: {
    imagesPerRequest: { value: 10, source: `${OPENAPI}: n 1–10` },
    referenceImages: { value: 16, source: `${OPENAPI}: EditImageBodyJsonParam.images maxItems 16` },
    unpublished: ['rate limits (per organisation and tier, not in the OpenAPI)'],
    slots: {
      value: 4,
      source: 'our conservative guess (2026-11-26): GPT Image limits are images per minute by usage tier, shown on the model page and the account limits page; no concurrency is published',
    },
  },
  webhooks: { value: { supported: false }, source: `${OPENAPI}: no callback for the Images API` },
  unconfirmed: [
    {
      fact: 'moderation_blocked (400) and insufficient_quota (429): observed codes, not in the OpenAPI',
      safeHandling: 'Another 400 is a refunded provider_error; a 429 without the code is retried as a rate limit, bounded by the task deadline, then refunded.',
      test: 'openai/observed-codes',
    },
    {
      fact: 'The input-image error codes of the Images API (the OpenAPI lists them for the Responses API)',
      safeHandling: 'An unlisted code is a 4xx: a refunded provider_error instead of invalid_input_image.',
      test: 'openai/input-image-codes',
    },
  ],
};

export const openaiAdapter = defineSyncAdapter({
  provider: { id: 'openai', baseUrlVar: 'OPENAI_BASE_URL', secret: 'OPENAI_API_KEY', defaultBaseUrl: 'https://api.openai.com', facts },
  mode: 'sync',
  auth: (key) => ({ authorization: `Bearer ${key}` }),
  // Generations at high quality take a minute or two; the call waits for them.
  timeoutMs: 240_000,
  submit: {
    request: (job: OpenAIImageJob) => ({ url: job.images ? '/v1/images/edits' : '/v1/images/generations', json: job }),
    answer: Generated,
    inlineImages: ['b64_json'],
    read: ({ data }, _job, context) => ({ state: 'succeeded', images: data.map(({ b64_json }) => context.inline(b64_json)) }),
  },
  errors: {
    schema: ErrorBody,
    message: ({ error }) => error.message,
    // A 429 can be billing, not load.
    outOfCredit: ({ body }) => body?.error.code === OPENAI_OUT_OF_CREDIT_CODE || body?.error.type === OPENAI_OUT_OF_CREDIT_CODE,
    refusal: ({ body, message }) => {
      const code = body?.error.code;
      const kind = code && Object.hasOwn(OPENAI_REFUSAL_CODES, code) ? OPENAI_REFUSAL_CODES[code] : undefined;
      if (kind === 'content_moderated') {
        return { state: 'failed', code: kind, message: `The request was rejected by the provider's safety system: ${message}` };
      }
      if (kind) return { state: 'failed', code: kind, message: `The provider could not use a reference image: ${message}` };
      return undefined;
    },
  },
});
