import type { Env } from '../env';

/** A JSON value a Durable Object can store between alarm runs (a provider's job handle). */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** One result image as the provider hands it over: a (usually expiring) URL, or inline bytes. */
export type ProviderImage = { url: string } | { base64: string; content_type?: string };

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

/** The names of the provider keys among the Worker's secrets. */
export type ProviderSecret = Extract<keyof Env, `${string}_API_KEY`>;

/** What an adapter gets for one call: the environment (for base URL and key) and the fetch to use. */
export interface ProviderCall {
  env: Env;
  fetch: typeof fetch;
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

/**
 * One provider API. `Job` is the provider-shaped request a catalog entry builds from a customer's
 * input. Sync providers answer `submit` with a terminal step and never see `poll`.
 */
export interface ProviderAdapter<Job> {
  /** Stable id, e.g. `bfl`; shown as the task's provider. */
  readonly id: string;
  /** The Worker secret holding this provider's API key. */
  readonly secret: ProviderSecret;
  submit(job: Job, call: ProviderCall): Promise<ProviderStep>;
  poll(handle: Json, call: ProviderCall): Promise<ProviderStep>;
}
