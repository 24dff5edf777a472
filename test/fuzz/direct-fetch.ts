import { env } from 'cloudflare:workers';
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import worker from '../../src/index';
import { ORIGIN } from '../helpers';
import type { Body } from './request-parts';
import type { Outcome } from './response-checks';

/**
 * The Worker's fetch handler called in this isolate, as test/api/public-base-url.test.ts does.
 *
 * Why not `api()` (`exports.default.fetch`) for the thousands of fuzz requests: in
 * @cloudflare/vitest-pool-workers 0.15.1 every such call builds a new entrypoint wrapper whose
 * constructor wraps the class prototype in one more Proxy (`createProxyPrototypeClass` in
 * dist/worker/lib/cloudflare/test-internal.mjs), so each call walks a chain one longer than the last:
 * measured here, the 50th request took ~9 ms, the 400th ~80 ms, 5,000 would take many minutes. The
 * handler and the bindings are the same either way; what a real client sends on the wire is added by
 * hand: `content-length` for a body of known size, `transfer-encoding: chunked` for a streamed one,
 * and no content type the client did not set (a string body would get `text/plain` from `Request`).
 */

const STREAM_CHUNK = 16 * 1024;
/** An event stream of an unfinished task stays open up to the task's deadline; no answer is read longer. */
const READ_TIMEOUT_MS = 10_000;

function streamOf(bytes: Uint8Array): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(offset, offset + STREAM_CHUNK));
      offset += STREAM_CHUNK;
    },
  });
}

/**
 * Sends one request and reads the whole answer (an event stream until it ends or 10 s pass). A header
 * `Headers` refuses (CR, LF or NUL in it) is left out; when that is the one named `mustCarry`, nothing
 * is sent and the answer is null (a request broken in that header would go out unbroken).
 */
export async function send(
  method: string,
  pathAndQuery: string,
  headerList: [string, string][],
  body: Body | null,
  mustCarry?: string,
): Promise<Outcome | null> {
  const headers = new Headers();
  const dropped: string[] = [];
  for (const [name, value] of headerList) {
    try {
      headers.append(name, value);
    } catch {
      dropped.push(name);
    }
  }
  if (mustCarry !== undefined && dropped.some((name) => name.toLowerCase() === mustCarry.toLowerCase())) return null;
  let payload: BodyInit | undefined;
  if (body && method !== 'GET') {
    const bytes = body.bytes ?? new TextEncoder().encode(body.text ?? '');
    if (body.chunked) {
      headers.set('transfer-encoding', 'chunked');
      payload = streamOf(bytes);
    } else {
      headers.set('content-length', String(bytes.length));
      payload = bytes;
    }
  }
  const ctx = createExecutionContext();
  const res = await worker.fetch(new Request(`${ORIGIN}${pathAndQuery}`, { method, headers, body: payload }), env, ctx);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve('<read timed out>'), READ_TIMEOUT_MS);
  });
  const readable = /json|text|event-stream/i.test(res.headers.get('content-type') ?? 'text/plain');
  const read = readable ? res.text() : res.arrayBuffer().then((b) => `<${b.byteLength} bytes of ${res.headers.get('content-type')}>`);
  const text = await Promise.race([read, timeout]);
  clearTimeout(timer);
  if (text === '<read timed out>') await res.body?.cancel().catch(() => undefined);
  await waitOnExecutionContext(ctx);
  return { status: res.status, headers: res.headers, text };
}

/** A JSON request for setup and state snapshots. */
export async function call(
  method: string,
  path: string,
  headers: Record<string, string>,
  json?: unknown,
): Promise<{ status: number; body: unknown }> {
  const list: [string, string][] = Object.entries(headers);
  if (json !== undefined) list.push(['content-type', 'application/json']);
  const outcome = (await send(method, path, list, json === undefined ? null : { text: JSON.stringify(json) }))!;
  let body: unknown = outcome.text;
  try {
    body = JSON.parse(outcome.text);
  } catch {
    // not JSON: keep the text
  }
  return { status: outcome.status, body };
}
