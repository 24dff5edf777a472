import { z } from 'zod';
import { defineAsyncAdapter, errorText, JOB_LOST, type ProviderFacts } from './adapter';
import { type FinalStep, ProviderRetryableError } from './types';

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

const Handle = z.object({ id: z.string().min(1), polling_url: z.string().min(1) });
type BflHandle = z.infer<typeof Handle>;

/**
 * `GET polling_url`: the six statuses BFL publishes (`StatusResponse`) are Pending, Ready, Request
 * Moderated, Content Moderated, Error and Task not found; `result` is null until Ready.
 */
const Polled = z.object({
  status: z.string(),
  result: z.object({ sample: z.string().min(1) }).nullish(),
});

/** FastAPI's `{ detail }` (a string, or a list of `{ loc, msg, type }` for a 422), or `message` / `error`, as BFL's SDK reads them. */
const ErrorBody = z.object({ detail: z.union([z.string().min(1), z.array(z.unknown())]).optional().catch(undefined), message: errorText, error: errorText });

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

/**
 * BFL's own SDK keeps polling only on `Pending` and fails any status it does not know ("do not poll
 * forever"); so do we, with a refund, instead of following a job that may never end.
 */
function endOf(status: string): FinalStep {
  switch (status) {
    case 'Request Moderated':
      return { state: 'failed', code: 'content_moderated', message: 'The prompt or input images were flagged by moderation.' };
    case 'Content Moderated':
      return { state: 'failed', code: 'content_moderated', message: 'The generated image was flagged by moderation.' };
    case 'Task not found':
      return JOB_LOST;
    case 'Error':
      return { state: 'failed', code: 'provider_error', message: 'The provider failed to generate the image.' };
    default:
      return { state: 'failed', code: 'provider_error', message: `The provider reported an unknown job status: ${status.slice(0, 100)}` };
  }
}

/** What BFL publishes (test/fixtures/providers/bfl.json restates it). */
const facts: ProviderFacts = {
  description: {
    source: 'docs.bfl.ai API reference (rendered from api.bfl.ai/openapi.json), errors page, help centre; SDK black-forest-labs/blackforest',
    readOn: '2026-11-26',
    fixture: 'bfl.json',
  },
  endpoints: ['POST /v1/flux-2-pro', 'POST /v1/flux-2-flex', 'GET /v1/get_result'],
  limits: {
    concurrentJobs: { value: 24, source: 'black-forest-labs/skills@c76d7245 rate-limiting.md (6 for kontext-max); help.bfl.ai: 429 means the active-task limit' },
    slots: {
      value: 24,
      source: 'concurrentJobs (read 2026-11-26): 24 active tasks per key for FLUX.2 [pro] and [flex]; the 6 is kontext-max only, which no model here uses',
    },
    referenceImages: { value: 8, source: 'OpenAPI fields input_image … input_image_8; blackforest@fef56d5c _catalog.py' },
    resultUrlLifetimeSeconds: { value: 600, source: 'docs.bfl.ai/integration_guidelines; blackforest@fef56d5c types/responses/responses.py' },
    replaySubmitAfter5xx: { value: false, source: 'blackforest@fef56d5c _transport.py retries 5xx for GET only: a POST may already be billed' },
    unpublished: ['requests per minute'],
  },
  webhooks: {
    value: {
      supported: true,
      // We send webhook_url alone: the token in our URL is the capability, and the callback only a hint to poll.
      how: 'webhook_url (1–2083 characters) and optionally webhook_secret in the submit body; the finished task is POSTed there',
      verification: 'the secret echoed in X-Webhook-Secret (SDK _webhooks.py); an HMAC X-BFL-Signature per the skills doc conflicts with it',
    },
    source: 'OpenAPI submit fields; blackforest@fef56d5c src/bfl/_webhooks.py (both read 2026-11-26)',
  },
  unconfirmed: [],
};

export const bflAdapter = defineAsyncAdapter({
  provider: { id: 'bfl', baseUrlVar: 'BFL_BASE_URL', secret: 'BFL_API_KEY', defaultBaseUrl: 'https://api.bfl.ai', facts },
  mode: 'async',
  statuses: { pending: ['Pending'], final: ['Ready', 'Request Moderated', 'Content Moderated', 'Task not found', 'Error'] },
  auth: (key) => ({ 'x-key': key }),
  handle: Handle,
  submit: {
    request: (job: BflJob, { callbackUrl }) => ({ url: `/v1/${job.endpoint}`, json: callbackUrl ? { ...job.body, webhook_url: callbackUrl } : job.body }),
    answer: Handle,
    // Checked here as well as before each poll: a bad host fails the submit, where a retry can move on.
    read: ({ id, polling_url }, _job, { base }) => ({ state: 'pending', handle: { id, polling_url: trustedPollingUrl(polling_url, base) } }),
  },
  poll: {
    request: (handle: BflHandle, { base }) => ({ url: trustedPollingUrl(handle.polling_url, base) }),
    answer: Polled,
    read: (answer, handle) => {
      if (answer.status === 'Pending') return { state: 'pending', handle };
      if (answer.status !== 'Ready') return endOf(answer.status);
      if (!answer.result) throw new ProviderRetryableError('bfl answered Ready without result.sample');
      return { state: 'succeeded', images: [{ url: answer.result.sample }] };
    },
  },
  errors: {
    schema: ErrorBody,
    message: ({ detail, message, error }) => (Array.isArray(detail) ? JSON.stringify(detail) : (detail ?? message ?? error)),
  },
});
