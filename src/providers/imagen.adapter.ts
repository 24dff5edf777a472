import { providerFetch, readJson, throwIfTransient } from './http';
import type { Json, ProviderAdapter, ProviderCall, ProviderImage, ProviderStep } from './types';
import { ProviderRetryableError } from './types';

/**
 * Google Imagen through the Gemini API (https://ai.google.dev/gemini-api/docs/imagen), synchronous:
 * `POST /v1beta/models/{model}:predict` with `x-goog-api-key`, body `{ instances: [{ prompt }],
 * parameters }`, answered `{ predictions: [{ bytesBase64Encoded, mimeType }] }`. Images the safety
 * filter removes are left out of `predictions`; with `includeRaiReason` a removed image comes back
 * as an item carrying only `raiFilteredReason`.
 */
export interface ImagenJob {
  model: string;
  prompt: string;
  parameters: {
    sampleCount: number;
    aspectRatio: string;
    /** `1K` or `2K`; the REST name of the SDKs' `imageSize` (Standard and Ultra only). */
    sampleImageSize: string;
    personGeneration: string;
    includeRaiReason: boolean;
    outputOptions: { mimeType: 'image/png' | 'image/jpeg' };
  };
}

/** Imagen answers within seconds; generous because a sync call cannot be resumed. */
const IMAGEN_CALL_TIMEOUT_MS = 120_000;

interface GoogleError {
  code?: number;
  message?: string;
  status?: string;
  details?: { reason?: string }[];
}

interface Prediction {
  bytesBase64Encoded?: string;
  mimeType?: string;
  raiFilteredReason?: string;
}

/**
 * Google answers 400 INVALID_ARGUMENT for bad parameters, safety-blocked prompts and unbilled
 * projects alike, so the message tells them apart. The wordings are the ones Imagen users report
 * (e.g. "Your current safety filter threshold prohibited one or more words in this prompt", "The
 * response is blocked, as it may violate our policies", "Imagen API is only accessible to billed
 * users at this time"); Google does not document them as stable.
 */
const SAFETY_MESSAGE = /safety|blocked|violat|prohibited|sensitive|responsible ai/i;
const BILLING_MESSAGE = /billed users|billing/i;

function errorOf(body: unknown): GoogleError {
  const error = (body as { error?: unknown } | null)?.error;
  return error && typeof error === 'object' ? (error as GoogleError) : {};
}

function failureOf(status: number, error: GoogleError): ProviderStep {
  const message = error.message ?? `HTTP ${status}`;
  const keyRejected = error.details?.some((d) => d.reason === 'API_KEY_INVALID') ?? false;
  if (status === 401 || status === 403 || keyRejected) {
    return { state: 'failed', code: 'provider_unavailable', message: 'The provider rejected our credentials.' };
  }
  if (BILLING_MESSAGE.test(message)) {
    return { state: 'failed', code: 'provider_unavailable', message: `The provider account cannot be billed: ${message}` };
  }
  if (status === 400 && SAFETY_MESSAGE.test(message)) {
    return { state: 'failed', code: 'content_moderated', message: `The prompt was blocked by the provider's safety filter: ${message}` };
  }
  return { state: 'failed', code: 'provider_error', message: `Provider rejected the request: ${message}` };
}

function stepOf(body: unknown): ProviderStep {
  if (!body || typeof body !== 'object') throw new ProviderRetryableError('imagen answered 200 with a non-object');
  const predictions = ((body as { predictions?: unknown }).predictions ?? []) as Prediction[];
  if (!Array.isArray(predictions)) throw new ProviderRetryableError('imagen predictions is not a list');
  const images: ProviderImage[] = predictions.flatMap((p) =>
    typeof p?.bytesBase64Encoded === 'string'
      ? [{ base64: p.bytesBase64Encoded, content_type: p.mimeType ?? 'image/png' }]
      : [],
  );
  const reasons = predictions.flatMap((p) => (typeof p?.raiFilteredReason === 'string' ? [p.raiFilteredReason] : []));
  if (images.length === 0 && reasons.length > 0) {
    return { state: 'failed', code: 'content_moderated', message: `The generated image was filtered: ${reasons.join('; ')}` };
  }
  // Zero images and no reason: Imagen dropped them silently; the task treats that as moderation.
  return { state: 'succeeded', images };
}

async function submit(job: ImagenJob, call: ProviderCall): Promise<ProviderStep> {
  const path = `/v1beta/models/${encodeURIComponent(job.model)}:predict`;
  const response = await providerFetch(
    call.fetch,
    new URL(path, call.env.GEMINI_BASE_URL).toString(),
    {
      method: 'POST',
      headers: { 'x-goog-api-key': call.env.GEMINI_API_KEY, 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ instances: [{ prompt: job.prompt }], parameters: job.parameters }),
    },
    IMAGEN_CALL_TIMEOUT_MS,
  );
  throwIfTransient(response, 'imagen');
  const body = await readJson(response, 'imagen');
  if (!response.ok) return failureOf(response.status, errorOf(body));
  return stepOf(body);
}

async function poll(_handle: Json): Promise<ProviderStep> {
  throw new Error('imagen generation is synchronous and has nothing to poll');
}

export const imagenAdapter: ProviderAdapter<ImagenJob> = { id: 'imagen', secret: 'GEMINI_API_KEY', submit, poll };
