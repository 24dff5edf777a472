import { fetchFollowingCheckedRedirects, RedirectRefusedError } from '../outbound/guarded-fetch';
import { describeNetworkFailure } from '../outbound/network-failure';
import { withTimeout } from '../outbound/timeout';
import type { OutboundUrlOptions } from '../outbound/url-guard';
import { type ImageInfo, imageInfo } from '../outbound/image-info';
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
    return await withTimeout(timeoutMs, (signal) => fetchFn(url, { ...init, signal }));
  } catch (err) {
    const host = new URL(url).host;
    const failure = describeNetworkFailure(err, { event: 'provider_fetch_failed', host });
    throw new ProviderRetryableError(`${failure} calling ${host}`, { cause: err });
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

/** A customer's reference image, downloaded for a provider that takes uploads instead of URLs. */
export interface InputImage {
  bytes: Uint8Array;
  content_type: ImageInfo['content_type'];
}

/** Upper bound on downloading one customer reference image. */
export const INPUT_IMAGE_TIMEOUT_MS = 20_000;

async function readCapped(response: Response, maxBytes: number): Promise<Uint8Array | null> {
  const reader = response.body?.getReader();
  if (!reader) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return bytes;
}

/** Why a downloaded reference image is unusable, or the image. */
async function readInputImage(response: Response, maxBytes: number): Promise<InputImage | string> {
  if (!response.ok) {
    await response.body?.cancel();
    return `could not be downloaded (HTTP ${response.status})`;
  }
  if (Number(response.headers.get('content-length') ?? '0') > maxBytes) {
    await response.body?.cancel();
    return `is larger than ${maxBytes} bytes`;
  }
  const bytes = await readCapped(response, maxBytes);
  if (!bytes) return `is larger than ${maxBytes} bytes`;
  const info = imageInfo(bytes);
  return info ? { bytes, content_type: info.content_type } : 'is not a PNG, JPEG or WebP image';
}

/** Where a reference image may be redirected to when the caller does not say: public hosts only. */
const PUBLIC_HOSTS_ONLY: OutboundUrlOptions = { allowLoopback: false };

/**
 * Downloads a reference image from a customer URL (already checked by the URL guard), reading at
 * most `maxBytes` within `timeoutMs` and accepting only PNG, JPEG or WebP by their magic bytes.
 * Redirects are followed by hand, each `Location` checked with the URL guard under `guard` (see
 * `fetchFollowingCheckedRedirects`). Answers why not as a string instead of throwing: a bad
 * customer image is the request's fault, never worth a retry.
 */
export async function fetchInputImage(
  fetchFn: typeof fetch,
  url: string,
  maxBytes: number,
  timeoutMs = INPUT_IMAGE_TIMEOUT_MS,
  guard = PUBLIC_HOSTS_ONLY,
): Promise<InputImage | string> {
  try {
    // The timeout also bounds reading the body, and every redirect hop.
    return await withTimeout(timeoutMs, async (signal) =>
      readInputImage(await fetchFollowingCheckedRedirects(fetchFn, url, { headers: { accept: 'image/*' }, signal }, guard), maxBytes),
    );
  } catch (err) {
    if (err instanceof RedirectRefusedError) return `could not be downloaded (${err.message})`;
    const failure = describeNetworkFailure(err, { event: 'input_image_fetch_failed', host: new URL(url).host });
    return `could not be downloaded (${failure})`;
  }
}
