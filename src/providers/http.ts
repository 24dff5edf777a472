import { ProviderRetryableError } from './types';

/** Upper bound on one provider HTTP call; the task's own deadline bounds the whole job. */
export const PROVIDER_CALL_TIMEOUT_MS = 30_000;

/** `fetch` with a timeout, turning network failures and timeouts into retryable errors. */
export async function providerFetch(
  fetchFn: typeof fetch,
  url: string,
  init: RequestInit,
  timeoutMs = PROVIDER_CALL_TIMEOUT_MS,
): Promise<Response> {
  try {
    return await fetchFn(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    throw new ProviderRetryableError(`network error calling ${new URL(url).host}: ${String(err)}`, { cause: err });
  }
}

/** Reads `Retry-After` (seconds or an HTTP date) in milliseconds. */
export function retryAfterMs(response: Response): number | undefined {
  const value = response.headers.get('retry-after');
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** The body as JSON, or a retryable error when a provider answers with something unparseable. */
export async function readJson(response: Response, provider: string): Promise<unknown> {
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new ProviderRetryableError(`${provider} answered ${response.status} with a non-JSON body`);
  }
}

/** The statuses that are the provider's trouble, not the request's: worth a retry elsewhere or later. */
export function throwIfTransient(response: Response, provider: string): void {
  if (response.status === 429) {
    throw new ProviderRetryableError(`${provider} rate limit`, { rateLimited: true, retryAfterMs: retryAfterMs(response) });
  }
  if (response.status >= 500 || response.status === 408) {
    throw new ProviderRetryableError(`${provider} answered ${response.status}`);
  }
}
