import { outboundUrlOptions } from '../outbound/url-guard';
import { fetchInputImage, providerFetch, readJson, throwIfTransient } from './http';
import type { Json, ProviderAdapter, ProviderCall, ProviderImage, ProviderStep } from './types';
import { ProviderRetryableError } from './types';

/**
 * Ideogram (https://developer.ideogram.ai), `Api-Key` header, multipart/form-data bodies:
 * - `POST /v1/ideogram-v3/generate` and `POST /v1/ideogram-v4/generate` answer at once with
 *   `{ created, data: [{ url, prompt, resolution, is_image_safe, seed }] }`;
 * - `POST /v1/ideogram-v4/async/generate` answers `{ generation_id }`, then
 *   `GET /v1/generations/{generation_id}` answers `{ generation_id, status, created }` with status
 *   `pending` | `completed` | `failed`, plus `response_type` and `data` once completed (statuses from
 *   the "Poll a generation" reference; `failure_reason` appears only in the v2 API's version).
 * Result URLs are ephemeral signed links (`…/ephemeral/<id>.png?exp=…`), copied out at once. An
 * image that fails the output safety check comes back with `is_image_safe: false` and no URL.
 */
export type IdeogramRoute = 'ideogram-v3/generate' | 'ideogram-v4/generate' | 'ideogram-v4/async/generate';

export interface IdeogramJob {
  route: IdeogramRoute;
  /** Text fields of the multipart form, already in Ideogram's spelling (`16x9`, `TURBO` …). */
  fields: Record<string, string>;
  /** Customer URLs we download and upload as `style_reference_images` files (v3 only). */
  style_reference_urls?: readonly string[];
}

interface IdeogramHandle {
  generation_id: string;
}

interface IdeogramImage {
  url?: string | null;
  is_image_safe?: boolean;
}

/** Ideogram caps all style reference images of one request at 10 MB together. */
export const IDEOGRAM_REFERENCE_MAX_BYTES = 10 * 1024 * 1024;
/** QUALITY renders take tens of seconds; a sync call cannot be resumed, so wait generously. */
const IDEOGRAM_CALL_TIMEOUT_MS = 180_000;

function headers(call: ProviderCall): Record<string, string> {
  return { 'api-key': call.env.IDEOGRAM_API_KEY, accept: 'application/json' };
}

function detailOf(body: unknown): string {
  if (body && typeof body === 'object') {
    const b = body as Record<string, unknown>;
    for (const key of ['detail', 'error', 'message', 'title']) {
      if (typeof b[key] === 'string') return b[key];
    }
  }
  return 'no detail';
}

/**
 * HTTP failures: 422 is Ideogram's safety check on the prompt or an input image. 402 for an empty
 * prepaid balance is UNCONFIRMED (Ideogram documents only 400, 401, 422 and 429).
 */
function failureOf(status: number, body: unknown): ProviderStep {
  const detail = detailOf(body);
  if (status === 422) {
    return { state: 'failed', code: 'content_moderated', message: `The prompt or a reference image failed the provider's safety check: ${detail}` };
  }
  if (status === 402) {
    return { state: 'failed', code: 'provider_unavailable', message: 'The provider account is out of credit.' };
  }
  if (status === 401 || status === 403) {
    return { state: 'failed', code: 'provider_unavailable', message: 'The provider rejected our credentials.' };
  }
  return { state: 'failed', code: 'provider_error', message: `Provider rejected the request: ${detail}` };
}

/** The safe images of a result; all of them flagged means the output was moderated. */
function resultOf(data: unknown): ProviderStep {
  if (!Array.isArray(data)) throw new ProviderRetryableError('ideogram result without data');
  const items = data as IdeogramImage[];
  const images: ProviderImage[] = items.flatMap((item) =>
    item?.is_image_safe !== false && typeof item?.url === 'string' && item.url ? [{ url: item.url }] : [],
  );
  if (images.length === 0 && items.length > 0) {
    return { state: 'failed', code: 'content_moderated', message: 'The generated image failed the provider safety check.' };
  }
  return { state: 'succeeded', images };
}

/** The multipart body, with the reference images downloaded; a string says which image is unusable. */
async function formOf(job: IdeogramJob, call: ProviderCall): Promise<FormData | string> {
  const form = new FormData();
  for (const [name, value] of Object.entries(job.fields)) form.append(name, value);
  let total = 0;
  for (const [i, url] of (job.style_reference_urls ?? []).entries()) {
    const image = await fetchInputImage(call.fetch, url, IDEOGRAM_REFERENCE_MAX_BYTES - total, undefined, outboundUrlOptions(call.env));
    if (typeof image === 'string') return `input_urls.${i} ${image}`;
    total += image.bytes.byteLength;
    const extension = image.content_type.split('/')[1];
    form.append('style_reference_images', new Blob([image.bytes], { type: image.content_type }), `reference-${i + 1}.${extension}`);
  }
  return form;
}

async function submit(job: IdeogramJob, call: ProviderCall): Promise<ProviderStep> {
  const form = await formOf(job, call);
  if (typeof form === 'string') {
    return { state: 'failed', code: 'invalid_input_image', message: `Reference image ${form} (at most 10 MB in total).` };
  }
  const response = await providerFetch(
    call.fetch,
    new URL(`/v1/${job.route}`, call.env.IDEOGRAM_BASE_URL).toString(),
    { method: 'POST', headers: headers(call), body: form },
    IDEOGRAM_CALL_TIMEOUT_MS,
  );
  throwIfTransient(response, 'ideogram');
  const body = (await readJson(response, 'ideogram')) as { data?: unknown; generation_id?: unknown } | null;
  if (!response.ok) return failureOf(response.status, body);
  if (job.route !== 'ideogram-v4/async/generate') return resultOf(body?.data);
  if (typeof body?.generation_id !== 'string') throw new ProviderRetryableError('ideogram async answer lacks generation_id');
  return { state: 'pending', handle: { generation_id: body.generation_id } };
}

async function poll(handle: Json, call: ProviderCall): Promise<ProviderStep> {
  const { generation_id } = handle as unknown as IdeogramHandle;
  const url = new URL(`/v1/generations/${encodeURIComponent(generation_id)}`, call.env.IDEOGRAM_BASE_URL);
  const response = await providerFetch(call.fetch, url.toString(), { headers: headers(call) });
  throwIfTransient(response, 'ideogram');
  const body = (await readJson(response, 'ideogram')) as { status?: string; data?: unknown; failure_reason?: unknown } | null;
  if (response.status === 404) return { state: 'failed', code: 'provider_error', message: 'The provider lost the generation.' };
  if (!response.ok) return failureOf(response.status, body);
  switch (body?.status) {
    case 'completed':
      return resultOf(body.data);
    case 'failed': {
      const reason = typeof body.failure_reason === 'string' ? `: ${body.failure_reason}` : '.';
      return { state: 'failed', code: 'provider_error', message: `The provider failed to generate the image${reason}` };
    }
    default:
      // `pending`, and any status Ideogram adds later: keep following the generation.
      return { state: 'pending', handle };
  }
}

export const ideogramAdapter: ProviderAdapter<IdeogramJob> = { id: 'ideogram', secret: 'IDEOGRAM_API_KEY', submit, poll };
