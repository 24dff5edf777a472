import { providerFetch, readTextAndJson, throwIfTransient } from './http';
import { type ProviderAdapter, type ProviderCall, ProviderRetryableError, type ProviderStep } from './types';

/**
 * Recraft (https://www.recraft.ai/docs/api-reference), sync and OpenAI-compatible:
 * `POST /v1/images/generations` with `Authorization: Bearer`, `{ prompt, model, n, size: "WxH",
 * response_format }`, answered `{ created, credits, data: [{ image_id, url }] }`. Result URLs are
 * kept for about 24 hours. Errors are any non-2xx status whose body is `text/plain` (401
 * `request unauthorized`, 404 `404 page not found`) or JSON, so the body is read as text first.
 *
 * UNCONFIRMED (not published by Recraft): how moderation is reported (a refusal whose message
 * mentions NSFW or inappropriate content, or images silently left out of `data`), the
 * out-of-credit answer (402, or a message about credits or API units) and 429 rate limits.
 */
export interface RecraftJob {
  /** e.g. `recraftv4`. */
  model: string;
  prompt: string;
  /** 1–6 images. */
  n: number;
  /** `WxH`, one of the model's sizes. */
  size: string;
}

/** Recraft spells sizes `WxH`. */
export const recraftSize = (width: number, height: number): string => `${width}x${height}`;

const OUT_OF_CREDIT = /credit|balance|api units/i;
const MODERATION = /nsfw|inappropriate|moderat|safety|content polic/i;

/** JSON only when the provider says so; otherwise the text is the message. */
function messageOf(response: Response, json: unknown, text: string): string {
  if ((response.headers.get('content-type') ?? '').includes('application/json') && json && typeof json === 'object') {
    const { message, error, detail, code } = json as Record<string, unknown>;
    for (const value of [message, error, detail, code]) if (typeof value === 'string' && value) return value;
  }
  return text.trim().slice(0, 300) || 'no detail';
}

function refusal(status: number, message: string): ProviderStep {
  if (status === 401 || status === 403) {
    return { state: 'failed', code: 'provider_unavailable', message: 'The provider rejected our credentials.' };
  }
  if (status === 402 || OUT_OF_CREDIT.test(message)) {
    return { state: 'failed', code: 'provider_unavailable', message: 'The provider account is out of credit.' };
  }
  if (MODERATION.test(message)) {
    return { state: 'failed', code: 'content_moderated', message: `The provider refused the content: ${message}` };
  }
  return { state: 'failed', code: 'provider_error', message: `Provider rejected the request: ${message}` };
}

async function submit(job: RecraftJob, call: ProviderCall): Promise<ProviderStep> {
  const url = new URL('/v1/images/generations', call.env.RECRAFT_BASE_URL).toString();
  const response = await providerFetch(call.fetch, url, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${call.env.RECRAFT_API_KEY}`,
      'content-type': 'application/json',
      accept: 'application/json',
    },
    body: JSON.stringify({ ...job, response_format: 'url' }),
  });
  throwIfTransient(response, 'recraft');
  const { text, json } = await readTextAndJson(response);
  if (!response.ok) return refusal(response.status, messageOf(response, json, text));
  const data = json && typeof json === 'object' ? (json as { data?: unknown }).data : undefined;
  if (!Array.isArray(data)) throw new ProviderRetryableError('recraft answer lacks data');
  const urls = data.map((item) => (item as { url?: unknown } | null)?.url).filter((u): u is string => typeof u === 'string' && u !== '');
  // Fewer images than asked, down to none, is what a filtered result looks like; the task treats
  // an empty result as moderated.
  return { state: 'succeeded', images: urls.map((u) => ({ url: u })) };
}

async function poll(): Promise<ProviderStep> {
  throw new Error('recraft image generation is synchronous; there is nothing to poll');
}

export const recraftAdapter: ProviderAdapter<RecraftJob> = { id: 'recraft', secret: 'RECRAFT_API_KEY', submit, poll };
