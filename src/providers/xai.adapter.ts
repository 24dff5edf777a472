import { providerFetch, readTextAndJson, throwIfTransient } from './http';
import {
  type ProviderAdapter,
  type ProviderCall,
  type ProviderImage,
  ProviderRetryableError,
  type ProviderStep,
} from './types';

/**
 * xAI image generation (https://docs.x.ai/developers/model-capabilities/images/generation), sync:
 * `POST /v1/images/generations` with `Authorization: Bearer`, an OpenAI-style body plus xAI's own
 * `aspect_ratio` and `resolution` (`size`, `style` and `quality` are not supported), answered
 * `{ data: [{ url | b64_json, mime_type, revised_prompt, respect_moderation }], block_reason, usage }`.
 *
 * Moderation arrives as HTTP 200: `block_reason` names why a prompt was refused, and an image the
 * output filter caught carries `respect_moderation: false`. Errors are `{ code, error: "<text>" }` or
 * `{ error: { message, type, code } }`. An exhausted balance is a 403 ("doesn't have any credits")
 * or a 429 ("has either used all available credits or reached its monthly spending limit"); those
 * texts come from user reports, not from xAI's documentation (UNCONFIRMED).
 */
export interface XaiJob {
  model: string;
  prompt: string;
  /** 1–10 images. */
  n: number;
  aspect_ratio: string;
  resolution: '1k' | '2k';
}

interface XaiImage {
  url?: unknown;
  b64_json?: unknown;
  mime_type?: unknown;
  respect_moderation?: unknown;
}

const OUT_OF_CREDIT = /credits|spending limit/i;
const BAD_KEY = /api key/i;
const MODERATION = /moderat|content polic|safety|nsfw/i;

function messageOf(json: unknown, text: string): string {
  if (json && typeof json === 'object') {
    const { error, message } = json as { error?: unknown; message?: unknown };
    if (typeof error === 'string' && error) return error;
    if (error && typeof error === 'object') {
      const nested = (error as { message?: unknown }).message;
      if (typeof nested === 'string' && nested) return nested;
    }
    if (typeof message === 'string' && message) return message;
  }
  return text.slice(0, 300) || 'no detail';
}

function refusal(status: number, message: string): ProviderStep {
  if (status === 402 || OUT_OF_CREDIT.test(message)) {
    return { state: 'failed', code: 'provider_unavailable', message: 'The provider account is out of credit.' };
  }
  if (status === 401 || status === 403 || BAD_KEY.test(message)) {
    return { state: 'failed', code: 'provider_unavailable', message: 'The provider rejected our credentials.' };
  }
  if (MODERATION.test(message)) {
    return { state: 'failed', code: 'content_moderated', message: `The provider refused the content: ${message}` };
  }
  return { state: 'failed', code: 'provider_error', message: `Provider rejected the request: ${message}` };
}

function imageOf(item: XaiImage): ProviderImage[] {
  if (item.respect_moderation === false) return [];
  if (typeof item.url === 'string' && item.url) return [{ url: item.url }];
  if (typeof item.b64_json === 'string' && item.b64_json) {
    return [{ base64: item.b64_json, ...(typeof item.mime_type === 'string' ? { content_type: item.mime_type } : {}) }];
  }
  return [];
}

function resultOf(json: unknown): ProviderStep {
  if (!json || typeof json !== 'object') throw new ProviderRetryableError('xai answered 200 with a non-JSON body');
  const answer = json as { data?: unknown; block_reason?: unknown };
  if (typeof answer.block_reason === 'string' && answer.block_reason) {
    return { state: 'failed', code: 'content_moderated', message: `The prompt was refused by moderation: ${answer.block_reason}` };
  }
  const items = (Array.isArray(answer.data) ? answer.data : []) as XaiImage[];
  const images = items.flatMap(imageOf);
  if (items.length > 0 && images.length === 0) {
    return { state: 'failed', code: 'content_moderated', message: 'The generated images were blocked by moderation.' };
  }
  return { state: 'succeeded', images };
}

async function submit(job: XaiJob, call: ProviderCall): Promise<ProviderStep> {
  const url = new URL('/v1/images/generations', call.env.XAI_BASE_URL).toString();
  const response = await providerFetch(call.fetch, url, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${call.env.XAI_API_KEY}`,
      'content-type': 'application/json',
      accept: 'application/json',
    },
    // URLs rather than base64: the results wait in the task's Durable Object state until they are
    // copied to R2, and up to ten inline 2k images could pass the size limit of one stored value.
    body: JSON.stringify({ ...job, response_format: 'url' }),
  });
  const { text, json } = await readTextAndJson(response);
  const message = messageOf(json, text);
  // An exhausted balance also comes as 429; waiting for it would only delay the same answer.
  if (response.status === 429 && OUT_OF_CREDIT.test(message)) return refusal(429, message);
  throwIfTransient(response, 'xai');
  if (!response.ok) return refusal(response.status, message);
  return resultOf(json);
}

async function poll(): Promise<ProviderStep> {
  throw new Error('xai image generation is synchronous; there is nothing to poll');
}

export const xaiAdapter: ProviderAdapter<XaiJob> = { id: 'xai', secret: 'XAI_API_KEY', submit, poll };
