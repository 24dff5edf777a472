import type { Env } from '../env';
import type { ProviderFacts } from './adapter';

/** A JSON value a Durable Object can store between alarm runs (a provider's job handle). */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/**
 * One result image as the provider hands it over: a (usually expiring) URL to copy, or an image the
 * provider sent inline, already copied out of its answer by `ProviderCall.spool` while it was read.
 */
export type ProviderImage = { url: string } | { spooled: SpooledImage };

/** An inline result image, stored as it was read (see `inline-images.ts`): small enough to keep in the task's record. */
export interface SpooledImage {
  file_id: string;
  width: number;
  height: number;
  content_type: string;
}

/** Why a task failed, as the contract names it in `error.code`. */
export type FailureCode =
  | 'content_moderated'
  | 'provider_error'
  | 'provider_unavailable'
  | 'invalid_input_image'
  | 'timeout';

/** Where a provider job stands after one call to it. */
export type ProviderStep =
  | { state: 'pending'; handle: Json }
  | { state: 'succeeded'; images: ProviderImage[] }
  | { state: 'failed'; code: FailureCode; message: string };

/** A step that ends the job: all a sync provider ever answers, and how an async job ends. */
export type FinalStep = Exclude<ProviderStep, { state: 'pending' }>;

/** The names of the provider keys among the Worker's secrets. */
export type ProviderSecret = Extract<keyof Env, `${string}_API_KEY`>;

/** The names of the provider base URLs among the Worker's variables (`PUBLIC_BASE_URL` is ours). */
export type ProviderBaseUrlVar = Exclude<Extract<keyof Env, `${string}_BASE_URL`>, 'PUBLIC_BASE_URL'>;

/** Who a provider is and where its settings live: one row of `PROVIDERS`. */
export interface ProviderInfo {
  /** Stable id, e.g. `bfl`; shown as the task's provider. */
  readonly id: string;
  /** The Worker variable holding the API's base URL; tests and `npm run dev` point it at the simulator. */
  readonly baseUrlVar: ProviderBaseUrlVar;
  /** The Worker secret holding the API key. */
  readonly secret: ProviderSecret;
  /** The production base URL (wrangler.toml's `[vars]`). */
  readonly defaultBaseUrl: string;
  /**
   * What the provider publishes about its API and limits, each fact with its source, and what we
   * rely on that it does not publish (see `ProviderFacts` in `adapter.ts`).
   */
  readonly facts?: ProviderFacts;
}

/** What an adapter gets for one call: the environment (for base URL and key) and the fetch to use. */
export interface ProviderCall {
  env: Env;
  fetch: typeof fetch;
  /** Stores one inline result image for good, as soon as it is read: its bytes, in consecutive parts. */
  spool(parts: Uint8Array[]): Promise<SpooledImage>;
  /**
   * Where the provider should call when the job ends, for a submit to a provider offering callbacks
   * (`facts.webhooks`); a capability URL on this Worker (src/api/callbacks/).
   */
  callbackUrl?: string;
}

/**
 * A transient failure talking to a provider (network error, 5xx, 429, malformed answer). The task
 * retries it with backoff and, after a few tries, moves to its model's next backend node.
 * Anything the provider says is final is a `failed` step instead, not a throw.
 */
export class ProviderRetryableError extends Error {
  readonly rateLimited: boolean;
  readonly retryAfterMs: number | undefined;

  constructor(message: string, options: { rateLimited?: boolean; retryAfterMs?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'ProviderRetryableError';
    this.rateLimited = options.rateLimited ?? false;
    this.retryAfterMs = options.retryAfterMs;
  }
}
