import type { z } from 'zod';
import { outboundUrlOptions } from '../outbound/url-guard';
import {
  type AdapterBase,
  type AsyncAdapter,
  type ErrorRules,
  type Exchange,
  type FailedAnswer,
  JOB_LOST,
  KEY_REJECTED,
  OUT_OF_CREDIT,
  type ProviderAdapter,
  type RequestContext,
} from './adapter';
import { MAX_IMAGE_BYTES } from '../outbound/image-info';
import { fetchInputImage, providerFetch, retryAfterMs } from './http';
import { placeholder, readInlineImages } from './inline-images';
import { type FinalStep, type Json, type ProviderCall, ProviderRetryableError, type ProviderStep, type SpooledImage } from './types';

/**
 * Runs adapter declarations: builds the request, calls the provider, parses its answer with the
 * adapter's schema, and maps HTTP failures to our failure kinds with the rules every provider shares.
 */

type Phase = FailedAnswer<unknown>['phase'];

/** Submits a job: a final step from a sync provider, a pending one (or final) from an async one. */
export function submitJob<Job>(adapter: ProviderAdapter<Job>, job: Job, call: ProviderCall): Promise<ProviderStep> {
  return exchange(adapter, adapter.submit, job, call, 'submit');
}

/**
 * Polls an async job by the handle its last step returned. A stored handle that does not fit the
 * adapter's shape can never be polled, so the job fails at once instead of waiting for its deadline.
 */
export async function pollJob<Job>(adapter: AsyncAdapter<Job>, handle: Json, call: ProviderCall): Promise<ProviderStep> {
  const parsed = adapter.handle.safeParse(handle);
  if (!parsed.success) {
    return { state: 'failed', code: 'provider_error', message: `The ${adapter.provider.id} job handle is unreadable.` };
  }
  return exchange(adapter, adapter.poll, parsed.data, call, 'poll');
}

async function exchange<In>(
  adapter: AdapterBase,
  spec: Exchange<In, z.ZodType, ProviderStep>,
  input: In,
  call: ProviderCall,
  phase: Phase,
): Promise<ProviderStep> {
  const { id, baseUrlVar, secret } = adapter.provider;
  const base = new URL(call.env[baseUrlVar]);
  const spooled: SpooledImage[] = [];
  const context: RequestContext = {
    base,
    callbackUrl: call.callbackUrl,
    inputImage: (url, maxBytes) => fetchInputImage(call.fetch, url, maxBytes, undefined, outboundUrlOptions(call.env)),
    inline: (value) => {
      const image = spooled.find((_, n) => placeholder(n) === value);
      // The answer's schema saw the stand-in; anything else there was not an image string.
      if (!image) throw new ProviderRetryableError(`${id} answered an inline image that could not be read`);
      return { spooled: image };
    },
  };
  const request = await spec.request(input, context);
  if ('state' in request) return request;
  const body = request.form ?? (request.json === undefined ? undefined : JSON.stringify(request.json));
  const headers: Record<string, string> = { ...adapter.auth(call.env[secret]), accept: 'application/json' };
  if (request.json !== undefined) headers['content-type'] = 'application/json';
  const response = await providerFetch(
    call.fetch,
    new URL(request.url, base).toString(),
    { method: body === undefined ? 'GET' : 'POST', headers, body },
    adapter.timeoutMs,
  );
  if (!response.ok) return failedAnswer(id, adapter.errors, response, phase);
  let json: unknown;
  if (spec.inlineImages && response.body) {
    const reading = await readInlineImages(id, response.body, spec.inlineImages, MAX_IMAGE_BYTES, (parts) => call.spool(parts));
    spooled.push(...reading.spooled);
    json = reading.json;
  } else {
    json = parseJson(await response.text());
  }
  return spec.read(answerOf(id, response.status, json, spec.answer), input, context);
}

/** A 2xx answer parsed with its schema; anything else is malformed, worth a retry. */
function answerOf<Answer extends z.ZodType>(provider: string, status: number, json: unknown, schema: Answer): z.output<Answer> {
  if (json === undefined) throw new ProviderRetryableError(`${provider} answered ${status} with a non-JSON body`);
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? `${issue.path.join('.') || 'body'}: ${issue.message}` : 'no detail';
    throw new ProviderRetryableError(`${provider} answered ${status} with an unexpected body (${where})`);
  }
  return parsed.data;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Reads a non-2xx answer's words, then lets `httpFailure` decide. */
async function failedAnswer(provider: string, rules: ErrorRules<z.ZodType>, response: Response, phase: Phase): Promise<FinalStep> {
  const text = await response.text();
  const labelled = /\bjson\b/i.test(response.headers.get('content-type') ?? '');
  const json = rules.jsonOnlyWhenLabelled && !labelled ? undefined : parseJson(text);
  const parsed = json === undefined ? undefined : rules.schema.safeParse(json);
  const body: unknown = parsed?.success ? parsed.data : undefined;
  const words = body === undefined ? undefined : rules.message(body);
  const message = words || (json === undefined ? text.trim().slice(0, 300) : '') || `HTTP ${response.status}`;
  return httpFailure(provider, rules, { status: response.status, body, message, phase }, retryAfterMs(response));
}

/**
 * The HTTP-failure rules every provider shares, written once. Final failures are returned, retryable
 * ones thrown:
 * - 402, or what the adapter recognises as an empty balance → final `provider_unavailable` (refund);
 * - 429 → retryable, rate-limited, waiting at least `Retry-After`;
 * - 408 and 5xx → retryable (network failures and timeouts are thrown by `providerFetch`);
 * - 401 and 403 → final `provider_unavailable`: our key is wrong, not the customer's request;
 * - the adapter's own 4xx refusals (moderation, a bad reference image …);
 * - 404 while polling → the provider lost the job;
 * - any other 4xx → final `provider_error` carrying the provider's words.
 */
export function httpFailure<Body>(
  provider: string,
  rules: Pick<ErrorRules<z.ZodType<Body>>, 'outOfCredit' | 'refusal'>,
  failure: FailedAnswer<Body>,
  retryAfter?: number,
): FinalStep {
  const { status } = failure;
  const transient = status === 408 || status >= 500;
  if (!transient && (status === 402 || rules.outOfCredit?.(failure))) return OUT_OF_CREDIT;
  if (status === 429) throw new ProviderRetryableError(`${provider} rate limit`, { rateLimited: true, retryAfterMs: retryAfter });
  if (transient) throw new ProviderRetryableError(`${provider} answered ${status}`);
  if (status === 401 || status === 403) return KEY_REJECTED;
  const refusal = rules.refusal?.(failure);
  if (refusal) return refusal;
  if (status === 404 && failure.phase === 'poll') return JOB_LOST;
  return { state: 'failed', code: 'provider_error', message: `Provider rejected the request: ${failure.message}` };
}
