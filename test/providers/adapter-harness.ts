import { env } from 'cloudflare:workers';
import { expect } from 'vitest';
import type { AsyncNode, BackendNode } from '../../src/catalog/types';
import type { Env } from '../../src/env';
import type { ProviderAdapter } from '../../src/providers/adapter';
import { imageInfo } from '../../src/outbound/image-info';
import { type ProviderCall, type ProviderImage, ProviderRetryableError, type ProviderStep, type SpooledImage } from '../../src/providers/types';
import { pngSize } from '../png';

/** The bytes of every inline image an adapter spooled in this test file, by file id. */
const spooledBytes = new Map<string, Uint8Array>();

/**
 * Keeps an inline image's bytes in memory instead of R2 and describes it as the Worker would (an
 * unreadable image gets zeros: what the adapter handed over is the point here, not its checks).
 */
export async function memorySpool(parts: Uint8Array[]): Promise<SpooledImage> {
  const bytes = new Uint8Array(await new Blob(parts).arrayBuffer());
  const file_id = `spooled_${spooledBytes.size}`;
  spooledBytes.set(file_id, bytes);
  return { file_id, ...(imageInfo(bytes) ?? { width: 0, height: 0, content_type: 'application/octet-stream' }) };
}

/** What a base64 text decodes to, for comparing with what an adapter handed over. */
export const base64Bytes = (text: string): Uint8Array => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

/** The bytes of an image handed over inline; throws for a URL image. */
export function inlineBytes(image: ProviderImage): Uint8Array {
  if (!('spooled' in image)) throw new Error('expected an image handed over inline');
  const bytes = spooledBytes.get(image.spooled.file_id);
  if (!bytes) throw new Error(`no bytes were spooled as ${image.spooled.file_id}`);
  return bytes;
}

/** One request an adapter made through a `recordingCall`. */
export interface SentRequest {
  url: string;
  method: string;
  headers: Headers;
  /** The text body (JSON for most providers); null for a request without one or a multipart one. */
  body: string | null;
  /** The multipart body, for providers that take file uploads. */
  form: FormData | null;
}

/** How a `recordingCall` differs from a plain one. */
export interface RecordingOptions {
  /** Bindings to replace, e.g. a provider's base URL and key, to show the adapter reads them from the env. */
  env?: Partial<Env>;
  /** Answers for URLs other than the provider's (a customer's reference images); requests for them are not recorded. */
  files?: Record<string, Response>;
}

/**
 * A `ProviderCall` whose fetch records each request and answers with `answers` in turn. Running out
 * of answers throws, as a failed network call would, instead of making one up.
 */
export function recordingCall(answers: Response | Response[], options: RecordingOptions = {}): { call: ProviderCall; sent: SentRequest[] } {
  const queue = Array.isArray(answers) ? [...answers] : [answers];
  const files = options.files ?? {};
  const sent: SentRequest[] = [];
  const fetchFn = async (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    const url = String(input);
    const file = files[url];
    if (file) return file;
    const { body } = init;
    if (body != null && typeof body !== 'string' && !(body instanceof FormData)) {
      throw new Error(`recordingCall only records text and multipart bodies, not ${Object.prototype.toString.call(body)}`);
    }
    sent.push({
      url,
      method: init.method ?? 'GET',
      headers: new Headers(init.headers),
      body: typeof body === 'string' ? body : null,
      form: body instanceof FormData ? body : null,
    });
    const answer = queue.shift();
    if (!answer) throw new Error(`no canned answer left for request ${sent.length} (${url})`);
    return answer;
  };
  const callEnv = options.env ? ({ ...env, ...options.env } as Env) : env;
  return { call: { env: callEnv, fetch: fetchFn as typeof fetch, spool: memorySpool }, sent };
}

/**
 * The real fetch with the test env, whose provider base URLs point at the simulator. Wrapped in an
 * arrow because workerd's `fetch` throws "Illegal invocation" when called as a method of another object.
 */
export const throughSimulator: ProviderCall = { env, fetch: (input, init) => fetch(input, init), spool: memorySpool };

/** A canned JSON answer. */
export const jsonAnswer = (status: number, body: unknown, headers: Record<string, string> = {}): Response =>
  Response.json(body, { status, headers });

/** A canned text/plain answer, as some providers send for errors. */
export const textAnswer = (status: number, text: string, headers: Record<string, string> = {}): Response =>
  new Response(text, { status, headers: { 'content-type': 'text/plain; charset=utf-8', ...headers } });

/** The one request a recording call received; fails when there were none or several. */
export function onlyRequest(sent: SentRequest[]): SentRequest {
  expect(sent).toHaveLength(1);
  return sent[0]!;
}

/** Checks that a request is a JSON POST to `url` carrying `key` as a Bearer token, as most providers take a job. */
export function expectBearerJsonPost(request: SentRequest, url: string, key: string): void {
  expect(request.url).toBe(url);
  expect(request.method).toBe('POST');
  expect(request.headers.get('authorization')).toBe(`Bearer ${key}`);
  expect(request.headers.get('content-type')).toBe('application/json');
}

/** A recorded request's body, parsed as JSON; fails for a request without a text body. */
export function sentJson(request: SentRequest): unknown {
  if (request.body === null) throw new Error(`${request.method} ${request.url} had no text body`);
  return JSON.parse(request.body);
}

/** What every adapter answers when the provider account has run out of credit. */
export const OUT_OF_CREDIT = { state: 'failed', code: 'provider_unavailable', message: 'The provider account is out of credit.' } as const;

/** What every adapter answers when the provider refuses our API key. */
export const KEY_REJECTED = { state: 'failed', code: 'provider_unavailable', message: 'The provider rejected our credentials.' } as const;

/**
 * Checks that `pending` rejects with a `ProviderRetryableError` matching `expected`; a retryable
 * error is how an adapter asks the task to try again, so resolving instead fails the test.
 */
export async function expectRetryable(pending: Promise<unknown>, expected: { rateLimited: boolean; retryAfterMs?: number }): Promise<void> {
  const error = await pending.then(
    (value) => {
      throw new Error(`expected a ProviderRetryableError, got ${JSON.stringify(value)}`);
    },
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(ProviderRetryableError);
  expect(error).toMatchObject(expected);
}

/** The images of a succeeded step; throws for any other step. */
export function succeededImages(step: ProviderStep): ProviderImage[] {
  if (step.state !== 'succeeded') throw new Error(`expected a succeeded step, got ${JSON.stringify(step)}`);
  return step.images;
}

/** The message of a failed step; throws for any other step. */
export function failureMessage(step: ProviderStep): string {
  if (step.state !== 'failed') throw new Error(`expected a failed step, got ${JSON.stringify(step)}`);
  return step.message;
}

/** The size in the PNG header of an image handed over as a URL, downloaded from there; throws for an inline image. */
export async function downloadedPngSize(image: ProviderImage): Promise<{ width: number; height: number }> {
  if (!('url' in image)) throw new Error('expected an image handed over as a URL');
  return pngSize(new Uint8Array(await (await fetch(image.url)).arrayBuffer()));
}

/** The size in the PNG header of an image handed over inline; throws for a URL image. */
export function inlinePngSize(image: ProviderImage): { width: number; height: number } {
  return pngSize(inlineBytes(image));
}

/** A node that polls; fails the test for a sync one. */
export function asyncNode<Input>(node: BackendNode<Input> | undefined): AsyncNode<Input> {
  if (node?.mode !== 'async') throw new Error(`expected an async node, got ${node?.mode ?? 'none'}`);
  return node;
}

/** Checks that a sync adapter, and a node bound to it, offer no poll at all. */
export function expectSync(adapter: ProviderAdapter<never>, node: BackendNode | undefined): void {
  expect(adapter.mode).toBe('sync');
  expect(adapter).not.toHaveProperty('poll');
  expect(node?.mode).toBe('sync');
  expect(node).not.toHaveProperty('poll');
}
