import { z } from 'zod';
import { defineSyncAdapter, errorText, type ProviderFacts } from './adapter';

/**
 * Recraft (https://www.recraft.ai/docs/api-reference), sync and OpenAI-compatible:
 * `POST /v1/images/generations` with `Authorization: Bearer`, `{ prompt, model, n, size: "WxH",
 * response_format }`, answered `{ created, credits, data: [{ image_id, url }] }`. Result URLs are
 * kept for about 24 hours. Errors are any non-2xx status whose body is `text/plain` (401
 * `request unauthorized`, 404 `404 page not found`) or JSON, so the body is read as text first.
 *
 * Recraft does not publish how moderation is reported (read as a refusal whose words mention NSFW or
 * inappropriate content, or images left out of `data`), its out-of-credit answer (402, or words about
 * credits or API units) or its rate limits: see `facts.unconfirmed` for why each is safe.
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

const Generated = z.object({ data: z.array(z.object({ url: z.string().nullish() }).nullable()) });
const ErrorBody = z.object({ message: errorText, error: errorText, detail: errorText, code: errorText });

const DOCS = 'recraft.ai/docs/api-reference';

/** What Recraft publishes (test/fixtures/providers/recraft.json restates it). */
const facts: ProviderFacts = {
  description: {
    source: `${DOCS} (agents, endpoints, appendix); OpenAPI-generated client in recraft-ai/mcp-recraft-server@0fc7a9ba`,
    readOn: '2026-11-26',
    fixture: 'recraft.json',
  },
  endpoints: ['POST /v1/images/generations'],
  limits: {
    imagesPerRequest: { value: 6, source: `${DOCS}/endpoints: n 1–6` },
    resultUrlLifetimeSeconds: { value: 24 * 3600, source: `${DOCS}/agents: URLs are kept about 24 hours` },
    unpublished: ['rate limits', 'concurrency'],
    slots: { value: 4, source: 'our conservative guess (2026-11-26): Recraft publishes neither rate limits nor concurrency' },
  },
  webhooks: { value: { supported: false }, source: `${DOCS}/endpoints: synchronous only` },
  unconfirmed: [
    {
      fact: 'How a refused prompt is reported (a 4xx whose words mention NSFW or inappropriate content)',
      safeHandling: 'A 4xx in other words is a refunded provider_error; a filtered image left out of data leaves an empty result, failed as content_moderated and refunded.',
      test: 'recraft/moderation',
    },
    {
      fact: 'The out-of-credit answer (402, or words about credits or API units)',
      safeHandling: 'Worded otherwise, it is still a 4xx: a refunded provider_error.',
      test: 'recraft/out-of-credit',
    },
    {
      fact: 'Rate limiting answered as 429',
      safeHandling: 'A 429 is retried, bounded by the task deadline, then refunded; another 4xx is a refunded provider_error.',
      test: 'recraft/rate-limit',
    },
  ],
};

export const recraftAdapter = defineSyncAdapter({
  provider: { id: 'recraft', baseUrlVar: 'RECRAFT_BASE_URL', secret: 'RECRAFT_API_KEY', defaultBaseUrl: 'https://external.api.recraft.ai', facts },
  mode: 'sync',
  auth: (key) => ({ authorization: `Bearer ${key}` }),
  submit: {
    request: (job: RecraftJob) => ({ url: '/v1/images/generations', json: { ...job, response_format: 'url' } }),
    answer: Generated,
    // Fewer images than asked, down to none, is what a filtered result looks like; the task treats
    // an empty result as moderated.
    read: ({ data }) => ({ state: 'succeeded', images: data.flatMap((item) => (item?.url ? [{ url: item.url }] : [])) }),
  },
  errors: {
    schema: ErrorBody,
    message: (body) => body.message ?? body.error ?? body.detail ?? body.code,
    // Recraft's plain-text errors are its words even when they look like JSON.
    jsonOnlyWhenLabelled: true,
    outOfCredit: ({ message }) => OUT_OF_CREDIT.test(message),
    refusal: ({ message }) =>
      MODERATION.test(message) ? { state: 'failed', code: 'content_moderated', message: `The provider refused the content: ${message}` } : undefined,
  },
});
