import { z } from 'zod';
import type { InputImage } from './http';
import type { FinalStep, Json, ProviderImage, ProviderInfo } from './types';

/**
 * What an adapter declares: who the provider is, how to build each request, and a zod schema for
 * every answer it reads. Declarations are data plus pure functions: they import nothing that does
 * I/O, so `PROVIDERS` can be read from them in Node (vitest.config.ts, scripts/dev.ts). The calls
 * themselves, and the HTTP-failure rules every provider shares, are in `exchange.ts`.
 */

/** A step of an async job whose handle has the adapter's own shape. */
export type JobStep<Handle extends Json> = { state: 'pending'; handle: Handle } | FinalStep;

/** One request to a provider. The shared code adds the key headers, `accept` and the content type. */
export interface ProviderRequest {
  /** A path on the provider's base URL, or an absolute URL the adapter has checked (BFL's polling URL). */
  url: string;
  /** A JSON body, sent as a POST. */
  json?: unknown;
  /** A multipart body, sent as a POST (for providers that take file uploads). */
  form?: FormData;
}

/** What building a request may use. */
export interface RequestContext {
  /** The provider's base URL (its `baseUrlVar`), parsed. */
  base: URL;
  /**
   * Downloads a customer's reference image (checked by the URL guard), for providers that take
   * uploads instead of URLs; a string says why the image is unusable.
   */
  inputImage(url: string, maxBytes: number): Promise<InputImage | string>;
  /** The result image an `inlineImages` string of the answer was stored as. */
  inline(value: string): ProviderImage;
  /** A submit's callback URL, when the task wants one: adapters whose provider offers callbacks pass it on. */
  callbackUrl?: string;
}

/**
 * One HTTP exchange: the request for `In`, the schema of its 2xx answer and how to read that
 * answer (with the same context). An answer that is not JSON or does not match `answer` is malformed: a retryable failure.
 */
export interface Exchange<In, Answer extends z.ZodType, Out> {
  /** The request, or a final failure found before calling (an unusable reference image). */
  request(input: In, context: RequestContext): ProviderRequest | FinalStep | Promise<ProviderRequest | FinalStep>;
  answer: Answer;
  /**
   * Keys whose string values in the answer are base64 images. They are decoded and stored while the
   * answer streams in, and `answer` sees a short stand-in that `context.inline` turns into the image.
   */
  inlineImages?: readonly string[];
  read(answer: z.output<Answer>, input: In, context: RequestContext): Out;
}

/** A non-2xx answer, as the error rules see it. */
export interface FailedAnswer<Body> {
  status: number;
  /** The body, when it parsed as JSON and matched `errors.schema`. */
  body: Body | undefined;
  /** The provider's words: `errors.message(body)`, else a non-JSON body's text, else `HTTP <status>`. */
  message: string;
  phase: 'submit' | 'poll';
}

/**
 * How to read a provider's failures. The status decides (see `httpFailure` in `exchange.ts`); the
 * body only lends its words, so an error body that does not match `schema` is read as text.
 */
export interface ErrorRules<Body extends z.ZodType> {
  schema: Body;
  /** The error text in a parsed error body. */
  message(body: z.output<Body>): string | undefined;
  /** Parse the body as JSON only when its Content-Type says so (plain-text errors that look like JSON). */
  jsonOnlyWhenLabelled?: boolean;
  /** An empty balance reported with another status than 402 (a 429, a 403, a 400 with its own words). */
  outOfCredit?(failure: FailedAnswer<z.output<Body>>): boolean;
  /** The 4xx refusals only this provider tells apart: moderation, an unusable reference image, a key refused with 400. */
  refusal?(failure: FailedAnswer<z.output<Body>>): FinalStep | undefined;
}

/** What every adapter declares, whatever its mode. */
export interface AdapterBase<ErrorBody extends z.ZodType = z.ZodType> {
  provider: ProviderInfo;
  /** The headers that carry the API key (the `provider.secret`). */
  auth(key: string): Record<string, string>;
  /** Upper bound on one call when the provider needs longer than `PROVIDER_CALL_TIMEOUT_MS` (sync renders). */
  timeoutMs?: number;
  errors: ErrorRules<ErrorBody>;
}

/** A provider that answers the submit with the result; nothing to poll. */
export interface SyncAdapter<Job, Answer extends z.ZodType = z.ZodType, ErrorBody extends z.ZodType = z.ZodType>
  extends AdapterBase<ErrorBody> {
  mode: 'sync';
  submit: Exchange<Job, Answer, FinalStep>;
}

/**
 * The job statuses an async adapter reads by name, as the provider's description lists them (the
 * contract tests hold both sides to it). Any other status ends the job at once as an unknown one,
 * refunded: an unknown status is never polled until the task's deadline.
 */
export interface JobStatuses {
  /** Keep polling. */
  readonly pending: readonly string[];
  /** The job is over (succeeded or failed). */
  readonly final: readonly string[];
}

/** A provider that answers the submit with a job to poll, identified by a handle we store between polls. */
export interface AsyncAdapter<
  Job,
  Handle extends Json = Json,
  Submitted extends z.ZodType = z.ZodType,
  Polled extends z.ZodType = z.ZodType,
  ErrorBody extends z.ZodType = z.ZodType,
> extends AdapterBase<ErrorBody> {
  mode: 'async';
  statuses: JobStatuses;
  /** The stored handle's shape, checked before each poll. */
  handle: z.ZodType<Handle>;
  submit: Exchange<Job, Submitted, JobStep<Handle>>;
  poll: Exchange<Handle, Polled, JobStep<Handle>>;
}

/**
 * Any adapter taking `Job`s; the catalog binds one to each backend node. The declarations above use
 * method syntax throughout: method parameters are bivariant, so an adapter whose `read`s take its own
 * answer types is a `ProviderAdapter<Job>` without a cast, while `defineSyncAdapter` and
 * `defineAsyncAdapter` still check each `read` against its schema.
 */
export type ProviderAdapter<Job> = SyncAdapter<Job> | AsyncAdapter<Job>;

/** Declares a sync adapter; the generics only tie each `read` to its answer schema. */
export function defineSyncAdapter<Job, Answer extends z.ZodType, ErrorBody extends z.ZodType>(
  adapter: SyncAdapter<Job, Answer, ErrorBody>,
): SyncAdapter<Job, Answer, ErrorBody> {
  return adapter;
}

/** Declares an async adapter; the generics only tie each `read` to its answer schema and the handle to its schema. */
export function defineAsyncAdapter<
  Job,
  Handle extends Json,
  Submitted extends z.ZodType,
  Polled extends z.ZodType,
  ErrorBody extends z.ZodType,
>(adapter: AsyncAdapter<Job, Handle, Submitted, Polled, ErrorBody>): AsyncAdapter<Job, Handle, Submitted, Polled, ErrorBody> {
  return adapter;
}

/**
 * A text field of an error body. Anything else there (a number, an object) is ignored rather than
 * failing the whole body: error bodies are read for their words only.
 */
export const errorText = z.string().min(1).optional().catch(undefined);

/** The provider refused our API key: our configuration, so the task fails and is refunded. */
export const KEY_REJECTED: FinalStep = { state: 'failed', code: 'provider_unavailable', message: 'The provider rejected our credentials.' };

/** The provider account has no credit left: our trouble too, refunded. */
export const OUT_OF_CREDIT: FinalStep = { state: 'failed', code: 'provider_unavailable', message: 'The provider account is out of credit.' };

/** The provider no longer knows the job we poll (expired or never kept). */
export const JOB_LOST: FinalStep = { state: 'failed', code: 'provider_error', message: 'The provider lost the job.' };

/** A fact a provider publishes, with where it says so. */
export interface Sourced<T> {
  readonly value: T;
  /** An address, or repository@commit and path, and what it says when that is not obvious. */
  readonly source: string;
}

/**
 * What a provider publishes about capacity, result delivery and callbacks, for the capacity and
 * callback work to read from the declaration rather than from prose. A limit it does not publish is
 * named in `unpublished` rather than guessed.
 */
export interface ProviderLimits {
  /** Jobs in flight at once before the provider answers 429 (or queues). */
  readonly concurrentJobs?: Sourced<number>;
  /** Images (or requests) per minute. */
  readonly imagesPerMinute?: Sourced<number>;
  /** Limits that depend on the account's tier, by tier name. */
  readonly tiers?: Sourced<Readonly<Record<string, { readonly concurrentJobs: number; readonly imagesPerMinute: number }>>>;
  /** Most images one request may ask for. */
  readonly imagesPerRequest?: Sourced<number>;
  /** Most reference images one request may carry. */
  readonly referenceImages?: Sourced<number>;
  /** How long result URLs stay downloadable; results must be copied out within it. */
  readonly resultUrlLifetimeSeconds?: Sourced<number>;
  /** The shortest poll interval the provider asks for. */
  readonly minPollIntervalMs?: Sourced<number>;
  /** Whether a submit answered 5xx may be sent again (it may already be running, and billed). */
  readonly replaySubmitAfter5xx?: Sourced<boolean>;
  /** Limits the provider does not publish, named so nobody mistakes them for unlimited. */
  readonly unpublished?: readonly string[];
  /**
   * Submit slots our capacity object grants this provider account by default (src/capacity/; the
   * `PROVIDER_CAPACITY` variable overrides it): the published concurrency, else a figure derived
   * from a published per-minute limit, else our own conservative guess. The source says which.
   */
  readonly slots?: Sourced<number>;
}

/** The provider's callbacks, when it offers any. */
export interface ProviderWebhooks {
  readonly supported: boolean;
  /** How a job asks for one (a field, a query parameter). */
  readonly how?: string;
  /** How a delivery is authenticated. */
  readonly verification?: string;
}

/**
 * Something an adapter relies on that no published source confirms, and why it is safe if wrong:
 * the answer it would misread ends the task as a clear failure with a refund (or is harmless), never
 * a stuck task or a charge. `test` names the test proving that handling.
 */
export interface UnconfirmedFact {
  readonly fact: string;
  readonly safeHandling: string;
  /** `file › test name` of the test proving the safe handling. */
  readonly test: string;
  /** Answer fields the adapter reads that the provider's description lacks (allowed by the contract tests because of this entry). */
  readonly fields?: readonly string[];
}

/** What we know about a provider's published API, each fact with its source. */
export interface ProviderFacts {
  /** The published description the adapter is checked against, restated in `test/fixtures/providers/<fixture>`. */
  readonly description: { readonly source: string; readonly readOn: string; readonly fixture: string };
  /** Every endpoint the adapters call, `METHOD /path` as the description names it (the contract tests check the list). */
  readonly endpoints: readonly string[];
  /** Whether the API still serves our route, when the provider has said it does not. */
  readonly availability?: Sourced<string>;
  readonly limits: ProviderLimits;
  readonly webhooks: Sourced<ProviderWebhooks>;
  /** Facts we rely on without a published source; aim: none. */
  readonly unconfirmed: readonly UnconfirmedFact[];
}
