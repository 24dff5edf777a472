import { providerFetch, readJson, throwIfTransient } from './http';
import type { Json, ProviderAdapter, ProviderCall, ProviderImage, ProviderStep } from './types';
import { ProviderRetryableError } from './types';

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

/** Generations at high quality take a minute or two; the call waits for them. */
const OPENAI_CALL_TIMEOUT_MS = 240_000;

interface OpenAIError {
  message?: string;
  type?: string;
  code?: string | null;
  param?: string | null;
}

/**
 * Error codes for a reference image OpenAI could not fetch or read. UNCONFIRMED for the Images API:
 * `invalid_image_url` is what OpenAI answers for unreachable image URLs elsewhere in its API.
 */
const INPUT_IMAGE_CODES = new Set(['invalid_image_url', 'invalid_image', 'invalid_image_format', 'image_parse_error']);

function errorOf(body: unknown): OpenAIError {
  const error = (body as { error?: unknown } | null)?.error;
  return error && typeof error === 'object' ? (error as OpenAIError) : {};
}

/** A 429 body can be billing, not load; read it without failing on a non-JSON answer. */
async function quotaExhausted(response: Response): Promise<boolean> {
  if (response.status !== 429) return false;
  const text = await response.clone().text();
  try {
    const error = errorOf(JSON.parse(text));
    return error.code === 'insufficient_quota' || error.type === 'insufficient_quota';
  } catch {
    return false;
  }
}

function failureOf(status: number, error: OpenAIError): ProviderStep {
  const detail = error.message ?? `HTTP ${status}`;
  if (error.code === 'moderation_blocked') {
    return { state: 'failed', code: 'content_moderated', message: `The request was rejected by the provider's safety system: ${detail}` };
  }
  if (error.code && INPUT_IMAGE_CODES.has(error.code)) {
    return { state: 'failed', code: 'invalid_input_image', message: `The provider could not use a reference image: ${detail}` };
  }
  if (status === 401 || status === 403) {
    return { state: 'failed', code: 'provider_unavailable', message: 'The provider rejected our credentials.' };
  }
  return { state: 'failed', code: 'provider_error', message: `Provider rejected the request: ${detail}` };
}

function imagesOf(body: unknown, format: OpenAIImageJob['output_format']): ProviderImage[] {
  const data = (body as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) throw new ProviderRetryableError('openai answered 200 without data');
  return data.map((item: { b64_json?: unknown }) => {
    if (typeof item?.b64_json !== 'string') throw new ProviderRetryableError('openai image without b64_json');
    return { base64: item.b64_json, content_type: `image/${format}` };
  });
}

async function submit(job: OpenAIImageJob, call: ProviderCall): Promise<ProviderStep> {
  const path = job.images ? '/v1/images/edits' : '/v1/images/generations';
  const response = await providerFetch(
    call.fetch,
    new URL(path, call.env.OPENAI_BASE_URL).toString(),
    {
      method: 'POST',
      headers: {
        authorization: `Bearer ${call.env.OPENAI_API_KEY}`,
        'content-type': 'application/json',
        accept: 'application/json',
      },
      body: JSON.stringify(job),
    },
    OPENAI_CALL_TIMEOUT_MS,
  );
  if (await quotaExhausted(response)) {
    return { state: 'failed', code: 'provider_unavailable', message: 'The provider account is out of quota.' };
  }
  throwIfTransient(response, 'openai');
  const body = await readJson(response, 'openai');
  if (!response.ok) return failureOf(response.status, errorOf(body));
  return { state: 'succeeded', images: imagesOf(body, job.output_format) };
}

async function poll(_handle: Json): Promise<ProviderStep> {
  throw new Error('openai image generation is synchronous and has nothing to poll');
}

export const openaiAdapter: ProviderAdapter<OpenAIImageJob> = { id: 'openai', secret: 'OPENAI_API_KEY', submit, poll };
