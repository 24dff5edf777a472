import { z } from 'zod';
import { defineSyncAdapter, errorText, KEY_REJECTED, type ProviderFacts } from './adapter';
import type { FinalStep } from './types';
import type { ProviderImage } from './types';

/**
 * Google Imagen through the Gemini API (https://ai.google.dev/gemini-api/docs/imagen), synchronous:
 * `POST /v1beta/models/{model}:predict` with `x-goog-api-key`, body `{ instances: [{ prompt }],
 * parameters }`, answered `{ predictions: [{ bytesBase64Encoded, mimeType }] }`. Images the safety
 * filter removes are left out of `predictions`; with `includeRaiReason` a removed image comes back
 * as an item carrying only `raiFilteredReason`.
 *
 * Google's own SDK stopped offering this route on the Gemini API in August 2026 (Vertex AI only; see
 * `facts.availability`): real calls are expected to fail until the node moves to Vertex AI or to a
 * Gemini image model, and each fails as `ROUTE_RETIRED`, refunded.
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

const Predicted = z.object({
  predictions: z
    .array(z.object({ bytesBase64Encoded: z.string().nullish(), mimeType: z.string().nullish(), raiFilteredReason: z.string().nullish() }))
    .nullish(),
});

/** Google's error model `{ error: { code, message, status, details } }`. */
const ErrorBody = z.object({
  error: z.object({
    message: errorText,
    details: z.array(z.object({ reason: errorText })).optional().catch(undefined),
  }),
});

/**
 * Google answers 400 INVALID_ARGUMENT for bad parameters, safety-blocked prompts and unbilled
 * projects alike, so the message tells them apart. The wordings are the ones Imagen users report
 * (e.g. "Your current safety filter threshold prohibited one or more words in this prompt", "The
 * response is blocked, as it may violate our policies", "Imagen API is only accessible to billed
 * users at this time"); Google does not document them as stable.
 */
const SAFETY_MESSAGE = /safety|blocked|violat|prohibited|sensitive|responsible ai/i;
const BILLING_MESSAGE = /billed users|billing/i;

/**
 * How Google words a model or method the Gemini API no longer serves: "models/… is not found for API
 * version v1beta, or is not supported for predict", or a pointer to Vertex AI / the Agent Platform.
 */
const RETIRED_MESSAGE = /not found for api version|not supported for predict|vertex|agent platform|no longer (?:available|supported)|deprecated|shut ?down/i;

/** Imagen on the Gemini API is gone: our configuration to fix, never the customer's request; refunded. */
export const ROUTE_RETIRED: FinalStep = {
  state: 'failed',
  code: 'provider_unavailable',
  message: 'Imagen is no longer served on the Gemini API (Google disabled the route in August 2026).',
};

const JS_GENAI = 'googleapis/js-genai';

/** What Google publishes (test/fixtures/providers/gemini-imagen.json restates it). */
const facts: ProviderFacts = {
  description: {
    source: `${JS_GENAI}@9ca6086^ src/converters/_models_converters.ts and src/types.ts (the last version sending generateImages to the Gemini API); Vertex VisionGenerativeModelParams`,
    readOn: '2026-11-26',
    fixture: 'gemini-imagen.json',
  },
  endpoints: ['POST /v1beta/models/{model}:predict'],
  availability: {
    value: 'Disabled on the Gemini API since August 2026 (Vertex AI only); every call is expected to fail as ROUTE_RETIRED, refunded.',
    source: `${JS_GENAI}@9ca6086 "chore: Disable GenerateImages for Gemini API" (2026-08-21); yet-another-changelog.ai "Imagen 4 API Shutdown" (third party: 2026-08-17)`,
  },
  limits: {
    imagesPerRequest: { value: 4, source: `${JS_GENAI} types.ts numberOfImages → sampleCount 1–4` },
    unpublished: ['rate limits (per-project quota)'],
    slots: {
      value: 2,
      source: 'our conservative guess: ai.google.dev/gemini-api/docs/rate-limits (read 2026-11-26) applies requests per minute and per day per project, model and tier, shown in AI Studio, not published per model',
    },
  },
  webhooks: { value: { supported: false }, source: `${JS_GENAI}: predict is synchronous` },
  unconfirmed: [
    {
      fact: 'The answer of the disabled route (status and wording)',
      safeHandling: 'A 404 or a message saying not found, not supported or Vertex AI is ROUTE_RETIRED; any other 4xx a provider_error; both refunded.',
      test: 'imagen/route-retired',
    },
    {
      fact: 'The wording of safety blocks and unbilled projects (400 INVALID_ARGUMENT, told apart by message only)',
      safeHandling: 'A 400 in other words is a refunded provider_error instead of content_moderated or provider_unavailable.',
      test: 'imagen/messages',
    },
  ],
};

export const imagenAdapter = defineSyncAdapter({
  provider: { id: 'imagen', baseUrlVar: 'GEMINI_BASE_URL', secret: 'GEMINI_API_KEY', defaultBaseUrl: 'https://generativelanguage.googleapis.com', facts },
  mode: 'sync',
  auth: (key) => ({ 'x-goog-api-key': key }),
  // Imagen answers within seconds; generous because a sync call cannot be resumed.
  timeoutMs: 120_000,
  submit: {
    request: (job: ImagenJob) => ({
      url: `/v1beta/models/${encodeURIComponent(job.model)}:predict`,
      json: { instances: [{ prompt: job.prompt }], parameters: job.parameters },
    }),
    answer: Predicted,
    inlineImages: ['bytesBase64Encoded'],
    read: ({ predictions }, _job, context) => {
      const all = predictions ?? [];
      const images: ProviderImage[] = all.flatMap((p) => (p.bytesBase64Encoded ? [context.inline(p.bytesBase64Encoded)] : []));
      const reasons = all.flatMap((p) => (p.raiFilteredReason ? [p.raiFilteredReason] : []));
      if (images.length === 0 && reasons.length > 0) {
        return { state: 'failed', code: 'content_moderated', message: `The generated image was filtered: ${reasons.join('; ')}` };
      }
      // Zero images and no reason: Imagen dropped them silently; the task treats that as moderation.
      return { state: 'succeeded', images };
    },
  },
  errors: {
    schema: ErrorBody,
    message: ({ error }) => error.message,
    refusal: ({ status, body, message }) => {
      if (body?.error.details?.some((d) => d.reason === 'API_KEY_INVALID')) return KEY_REJECTED;
      if (status === 404 || RETIRED_MESSAGE.test(message)) return ROUTE_RETIRED;
      if (BILLING_MESSAGE.test(message)) {
        return { state: 'failed', code: 'provider_unavailable', message: `The provider account cannot be billed: ${message}` };
      }
      if (status === 400 && SAFETY_MESSAGE.test(message)) {
        return { state: 'failed', code: 'content_moderated', message: `The prompt was blocked by the provider's safety filter: ${message}` };
      }
      return undefined;
    },
  },
});
