import { z } from 'zod';
import { type ErrorRules, defineAsyncAdapter, defineSyncAdapter, errorText, type ProviderFacts, type RequestContext } from './adapter';
import { type FinalStep, type ProviderImage, type ProviderInfo, ProviderRetryableError } from './types';

/**
 * Ideogram (https://developer.ideogram.ai), `Api-Key` header, multipart/form-data bodies:
 * - `POST /v1/ideogram-v3/generate` and `POST /v1/ideogram-v4/generate` answer at once with
 *   `{ created, data: [{ url, prompt, resolution, is_image_safe, seed }] }` (`ideogramAdapter`);
 * - `POST /v1/ideogram-v4/async/generate` answers `{ generation_id }`, then
 *   `GET /v1/generations/{generation_id}` answers `{ generation_id, status, created }` with status
 *   `pending` | `completed` | `failed`, plus `response_type` and `data` once completed (statuses from
 *   the "Poll a generation" reference; `failure_reason` appears only in the v2 API's version)
 *   (`ideogramAsyncAdapter`).
 * Result URLs are ephemeral signed links (`…/ephemeral/<id>.png?exp=…`), copied out at once. An
 * image that fails the output safety check comes back with `is_image_safe: false` and no URL.
 */
export type IdeogramSyncRoute = 'ideogram-v3/generate' | 'ideogram-v4/generate';

export interface IdeogramJob {
  route: IdeogramSyncRoute;
  /** Text fields of the multipart form, already in Ideogram's spelling (`16x9`, `TURBO` …). */
  fields: Record<string, string>;
  /** Customer URLs we download and upload as `style_reference_images` files (v3 only). */
  style_reference_urls?: readonly string[];
}

/** An Ideogram 4.0 job on the async route: the same form fields, no references. */
export type IdeogramAsyncJob = Pick<IdeogramJob, 'fields'>;

/** Ideogram caps all style reference images of one request at 10 MB together. */
export const IDEOGRAM_REFERENCE_MAX_BYTES = 10 * 1024 * 1024;

const OPENAPI = 'Ideogram OpenAPI (api.ideogram.ai/openapi.json, vendored in tryAGI/Ideogram@796aa9fd)';

/** What Ideogram publishes (test/fixtures/providers/ideogram.json restates it). */
const facts: ProviderFacts = {
  description: {
    source: `${OPENAPI}; developer.ideogram.ai reference (4.0 generate, v1 async generate and poll, webhooks)`,
    readOn: '2026-11-26',
    fixture: 'ideogram.json',
  },
  endpoints: [
    'POST /v1/ideogram-v3/generate',
    'POST /v1/ideogram-v4/generate',
    'POST /v1/ideogram-v4/async/generate',
    'GET /v1/generations/{generation_id}',
  ],
  limits: {
    imagesPerRequest: { value: 8, source: `${OPENAPI}: GenerateImageRequestV3.num_images 1–8` },
    concurrentJobs: {
      value: 10,
      source:
        'developer.ideogram.ai/ideogram-api/rate-limits (read 2026-11-26): 10 images in progress per organisation across every endpoint, a request for n images taking n places; over it 429 { error, reject_reason: "inflight_limit", max_inflight_requests }; polling GET /v2/generations 1,000 per 10 s',
    },
    slots: {
      value: 10,
      source: 'concurrentJobs (read 2026-11-26). Slots count tasks, Ideogram counts images: tasks of several images can still meet a 429, which lowers the limit (AIMD)',
    },
    unpublished: [
      'result URL lifetime ("a limited period"; exp= in the URL)',
      'how many style reference images (10 MB together is published)',
    ],
  },
  webhooks: {
    value: {
      supported: true,
      how: 'webhook_url query parameter on the async route',
      verification: 'Ed25519 signature in X-Ideogram-Webhook-* headers, keys at /v1/.well-known/jwks.json',
    },
    source: 'developer.ideogram.ai/ideogram-api/webhooks (read 2026-11-26)',
  },
  unconfirmed: [
    {
      fact: '402 for an empty balance on the generate routes (the OpenAPI documents it on /v1/edit only)',
      safeHandling: 'Any other 4xx for an empty balance is a refunded provider_error; a 429 is retried, bounded by the task deadline, then refunded.',
      test: 'ideogram/out-of-credit',
    },
    {
      fact: 'Prompt limit (we accept 5000 characters) and at most 3 style reference images: no number published',
      safeHandling: 'A stricter real limit answers 400: a refunded provider_error, never a charge.',
      test: 'ideogram/limits',
    },
  ],
};

const ideogram: ProviderInfo = {
  id: 'ideogram',
  baseUrlVar: 'IDEOGRAM_BASE_URL',
  secret: 'IDEOGRAM_API_KEY',
  defaultBaseUrl: 'https://api.ideogram.ai',
  facts,
};
const auth = (key: string) => ({ 'api-key': key });

const Images = z.array(z.object({ url: z.string().nullish(), is_image_safe: z.boolean().nullish() }));
const Generated = z.object({ data: Images });
const Handle = z.object({ generation_id: z.string().min(1) });
type IdeogramHandle = z.infer<typeof Handle>;
const Generation = z.object({ status: z.string(), data: Images.nullish(), failure_reason: z.string().nullish() });

/**
 * HTTP failures: 422 is Ideogram's safety check on the prompt or an input image (`{ error }`, as
 * its OpenAPI documents). 402 for an empty balance is documented on `/v1/edit` only (the shared rule
 * reads it as out of credit wherever it comes).
 */
const ErrorBody = z.object({ detail: errorText, error: errorText, message: errorText, title: errorText });
const errors: ErrorRules<typeof ErrorBody> = {
  schema: ErrorBody,
  message: (body) => body.detail ?? body.error ?? body.message ?? body.title,
  refusal: ({ status, message }) =>
    status === 422
      ? { state: 'failed', code: 'content_moderated', message: `The prompt or a reference image failed the provider's safety check: ${message}` }
      : undefined,
};

/** The safe images of a result; all of them flagged means the output was moderated. */
function resultOf(items: z.infer<typeof Images>): FinalStep {
  const images: ProviderImage[] = items.flatMap((item) => (item.is_image_safe !== false && item.url ? [{ url: item.url }] : []));
  if (images.length === 0 && items.length > 0) {
    return { state: 'failed', code: 'content_moderated', message: 'The generated image failed the provider safety check.' };
  }
  return { state: 'succeeded', images };
}

function textForm(fields: Record<string, string>): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  return form;
}

/** The multipart body, with the reference images downloaded; an unusable image fails the job before any call. */
async function formOf(job: IdeogramJob, { inputImage }: RequestContext): Promise<FormData | FinalStep> {
  const form = textForm(job.fields);
  let total = 0;
  for (const [i, url] of (job.style_reference_urls ?? []).entries()) {
    const image = await inputImage(url, IDEOGRAM_REFERENCE_MAX_BYTES - total);
    if (typeof image === 'string') {
      return { state: 'failed', code: 'invalid_input_image', message: `Reference image input_urls.${i} ${image} (at most 10 MB in total).` };
    }
    total += image.bytes.byteLength;
    const extension = image.content_type.split('/')[1];
    form.append('style_reference_images', new Blob([image.bytes], { type: image.content_type }), `reference-${i + 1}.${extension}`);
  }
  return form;
}

/** Ideogram 3.0 and 4.0 on the routes that answer with the images. */
export const ideogramAdapter = defineSyncAdapter({
  provider: ideogram,
  mode: 'sync',
  auth,
  // QUALITY renders take tens of seconds; a sync call cannot be resumed, so wait generously.
  timeoutMs: 180_000,
  submit: {
    request: async (job: IdeogramJob, context) => {
      const form = await formOf(job, context);
      return form instanceof FormData ? { url: `/v1/${job.route}`, form } : form;
    },
    answer: Generated,
    read: ({ data }) => resultOf(data),
  },
  errors,
});

/** Ideogram 4.0 on the route that queues the job, polled until it ends. */
export const ideogramAsyncAdapter = defineAsyncAdapter({
  provider: ideogram,
  mode: 'async',
  // The "Poll a generation" reference (v1) lists exactly these three.
  statuses: { pending: ['pending'], final: ['completed', 'failed'] },
  auth,
  handle: Handle,
  submit: {
    request: (job: IdeogramAsyncJob, { callbackUrl }) => ({
      url: `/v1/ideogram-v4/async/generate${callbackUrl ? `?webhook_url=${encodeURIComponent(callbackUrl)}` : ''}`,
      form: textForm(job.fields),
    }),
    answer: Handle,
    read: ({ generation_id }) => ({ state: 'pending', handle: { generation_id } }),
  },
  poll: {
    request: (handle: IdeogramHandle) => ({ url: `/v1/generations/${encodeURIComponent(handle.generation_id)}` }),
    answer: Generation,
    read: (generation, handle) => {
      switch (generation.status) {
        case 'completed':
          if (!generation.data) throw new ProviderRetryableError('ideogram completed generation without data');
          return resultOf(generation.data);
        case 'failed': {
          const reason = generation.failure_reason ? `: ${generation.failure_reason}` : '.';
          return { state: 'failed', code: 'provider_error', message: `The provider failed to generate the image${reason}` };
        }
        case 'pending':
          return { state: 'pending', handle };
        default:
          // A status Ideogram does not publish would otherwise be followed until the task's deadline.
          return { state: 'failed', code: 'provider_error', message: `The provider reported an unknown job status: ${generation.status.slice(0, 100)}` };
      }
    },
  },
  errors,
});
