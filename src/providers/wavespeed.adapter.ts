import { providerFetch, readTextAndJson, throwIfTransient } from './http';
import { type Json, type ProviderAdapter, type ProviderCall, ProviderRetryableError, type ProviderStep } from './types';

/**
 * WaveSpeedAI v3 (https://wavespeed.ai/docs): `POST /api/v3/{model}` with `Authorization: Bearer`,
 * the model's own fields as the JSON body, answered `{ code, message, data: { id, status, outputs,
 * has_nsfw_contents, error, urls } }`; then `GET /api/v3/predictions/{id}/result` (same envelope)
 * until `data.status` is `completed` or `failed` (before that `created` or `processing`). Outputs
 * are CDN URLs kept for 7 days; `has_nsfw_contents[i]` flags output i.
 *
 * UNCONFIRMED (no official source found): the error envelope of non-200 answers (read as
 * `{ code, message }`), the out-of-credit answer (recognised by status 402 or its message), and how
 * a prompt refused by moderation is reported (read from the `error` text of a failed prediction).
 */
export interface WavespeedJob {
  /** The model's path under `/api/v3/`, e.g. `z-ai/cogview-4`. */
  model: string;
  /** The model's own input fields, sent unchanged as the JSON body. */
  input: { prompt: string; [field: string]: Json };
}

/** WaveSpeed spells sizes `W*H`. */
export const wavespeedSize = (width: number, height: number): string => `${width}*${height}`;

type WavespeedHandle = { id: string; model: string };

interface Prediction {
  id?: unknown;
  status?: unknown;
  outputs?: unknown;
  has_nsfw_contents?: unknown;
  error?: unknown;
}

const OUT_OF_CREDIT = /insufficient|balance|top[- ]?up|credit/i;
const MODERATION = /nsfw|sensitive|safety|moderat|flagged|content polic|inappropriate/i;

function config(call: ProviderCall): { base: URL; headers: Record<string, string> } {
  return {
    base: new URL(call.env.WAVESPEED_BASE_URL),
    headers: { authorization: `Bearer ${call.env.WAVESPEED_API_KEY}`, accept: 'application/json' },
  };
}

function messageOf(json: unknown, text: string): string {
  if (json && typeof json === 'object') {
    const body = json as { message?: unknown; error?: unknown };
    if (typeof body.message === 'string' && body.message) return body.message;
    if (typeof body.error === 'string' && body.error) return body.error;
  }
  return text.slice(0, 300) || 'no detail';
}

/** A final refusal of a request (4xx other than 408/429): whose fault it is decides the code. */
function refusal(status: number, message: string): ProviderStep {
  if (status === 401 || status === 403) {
    return { state: 'failed', code: 'provider_unavailable', message: 'The provider rejected our credentials.' };
  }
  if (status === 402 || OUT_OF_CREDIT.test(message)) {
    return { state: 'failed', code: 'provider_unavailable', message: 'The provider account is out of credit.' };
  }
  return { state: 'failed', code: 'provider_error', message: `Provider rejected the request: ${message}` };
}

function predictionOf(json: unknown): Prediction {
  const data = json && typeof json === 'object' ? (json as { data?: unknown }).data : undefined;
  if (!data || typeof data !== 'object') throw new ProviderRetryableError('wavespeed answer lacks data');
  return data as Prediction;
}

/** Where a prediction stands; flagged outputs are dropped, as the customer cannot be given them. */
function stepOf(prediction: Prediction, handle: WavespeedHandle): ProviderStep {
  switch (prediction.status) {
    case 'completed': {
      const outputs = Array.isArray(prediction.outputs) ? prediction.outputs.filter((o) => typeof o === 'string') : [];
      const flags = Array.isArray(prediction.has_nsfw_contents) ? prediction.has_nsfw_contents : [];
      const clean = outputs.filter((_, i) => flags[i] !== true);
      if (outputs.length > 0 && clean.length === 0) {
        return { state: 'failed', code: 'content_moderated', message: 'The generated image was flagged by moderation.' };
      }
      return { state: 'succeeded', images: clean.map((url) => ({ url })) };
    }
    case 'failed': {
      const error = typeof prediction.error === 'string' && prediction.error ? prediction.error : 'no detail';
      if (MODERATION.test(error)) {
        return { state: 'failed', code: 'content_moderated', message: `The provider refused the content: ${error}` };
      }
      return { state: 'failed', code: 'provider_error', message: `The provider failed to generate the image: ${error}` };
    }
    default:
      // created, processing and anything WaveSpeed adds later: keep following the job.
      return { state: 'pending', handle };
  }
}

async function submit(job: WavespeedJob, call: ProviderCall): Promise<ProviderStep> {
  const { base, headers } = config(call);
  const response = await providerFetch(call.fetch, new URL(`/api/v3/${job.model}`, base).toString(), {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify(job.input),
  });
  throwIfTransient(response, 'wavespeed');
  const { text, json } = await readTextAndJson(response);
  if (!response.ok) return refusal(response.status, messageOf(json, text));
  const prediction = predictionOf(json);
  if (typeof prediction.id !== 'string' || !prediction.id) throw new ProviderRetryableError('wavespeed answer lacks data.id');
  return stepOf(prediction, { id: prediction.id, model: job.model });
}

async function poll(handle: Json, call: ProviderCall): Promise<ProviderStep> {
  const job = handle as unknown as WavespeedHandle;
  const { base, headers } = config(call);
  // Built from our base URL rather than `data.urls.get`, so our key only ever goes to our host.
  const url = new URL(`/api/v3/predictions/${encodeURIComponent(job.id)}/result`, base).toString();
  const response = await providerFetch(call.fetch, url, { headers });
  throwIfTransient(response, 'wavespeed');
  const { text, json } = await readTextAndJson(response);
  if (response.status === 404) return { state: 'failed', code: 'provider_error', message: 'The provider lost the job.' };
  if (!response.ok) return refusal(response.status, messageOf(json, text));
  return stepOf(predictionOf(json), job);
}

export const wavespeedAdapter: ProviderAdapter<WavespeedJob> = { id: 'wavespeed', secret: 'WAVESPEED_API_KEY', submit, poll };
