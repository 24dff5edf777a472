import { providerFetch, readJson, throwIfTransient } from './http';
import { type Json, type ProviderAdapter, type ProviderCall, ProviderRetryableError, type ProviderStep } from './types';

/**
 * Black Forest Labs, FLUX.2 (https://docs.bfl.ai): `POST /v1/flux-2-{pro,flex}` with `x-key`,
 * answered `{ id, polling_url }`; then `GET polling_url` until `status` is terminal. Result URLs
 * (`result.sample`) expire after about ten minutes, so the task copies them out at once.
 */
export interface BflJob {
  endpoint: 'flux-2-pro' | 'flux-2-flex';
  body: {
    prompt: string;
    width: number;
    height: number;
    output_format: 'png' | 'jpeg';
    /** input_image, input_image_2 … input_image_8: URLs the provider fetches itself. */
    [inputImage: `input_image${string}`]: string;
  };
}

/** The provider's names for the 1st…8th reference image. */
export function bflInputImageFields(urls: readonly string[]): Record<`input_image${string}`, string> {
  return Object.fromEntries(urls.map((url, i) => [i === 0 ? 'input_image' : `input_image_${i + 1}`, url]));
}

interface BflHandle {
  id: string;
  polling_url: string;
}

function config(call: ProviderCall): { base: URL; key: string } {
  return { base: new URL(call.env.BFL_BASE_URL), key: call.env.BFL_API_KEY };
}

/**
 * BFL hands back polling URLs on regional hosts (`api.eu2.bfl.ai`); we send our key only to the
 * configured host or a sibling under the same parent domain, never to an arbitrary URL.
 */
function trustedPollingUrl(raw: string, base: URL): string {
  const url = new URL(raw);
  const parent = (host: string) => host.split('.').slice(-2).join('.');
  const sameHost = url.host === base.host;
  const sibling = !/^[\d.]+$|:/.test(url.hostname) && parent(url.hostname) === parent(base.hostname);
  if (url.protocol !== base.protocol || !(sameHost || sibling)) {
    throw new ProviderRetryableError(`bfl returned an untrusted polling_url host ${url.host}`);
  }
  return url.toString();
}

function detailOf(body: unknown): string {
  if (body && typeof body === 'object') {
    const b = body as Record<string, unknown>;
    if (typeof b.detail === 'string') return b.detail;
    if (Array.isArray(b.detail)) return JSON.stringify(b.detail);
    if (typeof b.message === 'string') return b.message;
  }
  return 'no detail';
}

async function submit(job: BflJob, call: ProviderCall): Promise<ProviderStep> {
  const { base, key } = config(call);
  const response = await providerFetch(call.fetch, new URL(`/v1/${job.endpoint}`, base).toString(), {
    method: 'POST',
    headers: { 'x-key': key, 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(job.body),
  });
  throwIfTransient(response, 'bfl');
  const body = await readJson(response, 'bfl');
  if (response.status === 402) {
    return { state: 'failed', code: 'provider_unavailable', message: 'The provider account is out of credit.' };
  }
  if (response.status === 401 || response.status === 403) {
    return { state: 'failed', code: 'provider_unavailable', message: 'The provider rejected our credentials.' };
  }
  if (!response.ok) {
    return { state: 'failed', code: 'provider_error', message: `Provider rejected the request: ${detailOf(body)}` };
  }
  const { id, polling_url } = (body ?? {}) as Partial<BflHandle>;
  if (typeof id !== 'string' || typeof polling_url !== 'string') {
    throw new ProviderRetryableError('bfl submit answer lacks id or polling_url');
  }
  return { state: 'pending', handle: { id, polling_url: trustedPollingUrl(polling_url, base) } };
}

async function poll(handle: Json, call: ProviderCall): Promise<ProviderStep> {
  const { polling_url } = handle as unknown as BflHandle;
  const { base, key } = config(call);
  const response = await providerFetch(call.fetch, trustedPollingUrl(polling_url, base), {
    headers: { 'x-key': key, accept: 'application/json' },
  });
  throwIfTransient(response, 'bfl');
  const body = (await readJson(response, 'bfl')) as {
    status?: string;
    result?: { sample?: string } | null;
    details?: unknown;
  };
  if (!response.ok) {
    return { state: 'failed', code: 'provider_error', message: `Provider answered ${response.status}: ${detailOf(body)}` };
  }
  switch (body.status) {
    case 'Ready': {
      const sample = body.result?.sample;
      if (typeof sample !== 'string') throw new ProviderRetryableError('bfl Ready without result.sample');
      return { state: 'succeeded', images: [{ url: sample }] };
    }
    case 'Request Moderated':
      return { state: 'failed', code: 'content_moderated', message: 'The prompt or input images were flagged by moderation.' };
    case 'Content Moderated':
      return { state: 'failed', code: 'content_moderated', message: 'The generated image was flagged by moderation.' };
    case 'Task not found':
      return { state: 'failed', code: 'provider_error', message: 'The provider lost the job.' };
    case 'Error':
    case 'Failed':
      return { state: 'failed', code: 'provider_error', message: 'The provider failed to generate the image.' };
    default:
      // Pending, Queued, Processing and any status BFL adds later: keep following the job.
      return { state: 'pending', handle };
  }
}

export const bflAdapter: ProviderAdapter<BflJob> = { id: 'bfl', secret: 'BFL_API_KEY', submit, poll };
