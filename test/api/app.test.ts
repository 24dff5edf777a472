import { describe, expect, it } from 'vitest';
import { api, customer, INTERNAL, newAccountId } from '../helpers';

describe('the HTTP envelope', () => {
  it('answers unknown routes with 404 not_found in the error envelope', async () => {
    const res = await api('/api/v1/nothing-here');
    expect(res.status).toBe(404);
    const body = await res.json<{ error: Record<string, unknown> }>();
    expect(body.error).toMatchObject({ code: 'not_found', type: 'invalid_request_error', param: null });
    expect(body.error.request_id).toBe(res.headers.get('x-request-id'));
  });

  it('answers a known path with the wrong method with 405 and Allow', async () => {
    const res = await api('/api/v1/images/generations');
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
    expect((await res.json<{ error: { code: string } }>()).error.code).toBe('method_not_allowed');
  });

  it('keeps a sane x-request-id from the caller and replaces an unsafe one', async () => {
    const kept = await api('/api/v1/models', { headers: { 'x-request-id': 'bff-1234' } });
    expect(kept.headers.get('x-request-id')).toBe('bff-1234');
    const replaced = await api('/api/v1/models', { headers: { 'x-request-id': 'evil id with spaces' } });
    expect(replaced.headers.get('x-request-id')).toMatch(/^req_[0-9A-Za-z]{20}$/);
  });

  it('keeps a caller id of up to 128 characters and replaces a longer one', async () => {
    const longest = 'b'.repeat(128);
    expect((await api('/api/v1/models', { headers: { 'x-request-id': longest } })).headers.get('x-request-id')).toBe(longest);
    const tooLong = await api('/api/v1/models', { headers: { 'x-request-id': `${longest}b` } });
    expect(tooLong.headers.get('x-request-id')).toMatch(/^req_[0-9A-Za-z]{20}$/);
  });

  it('gives an error answer the same request id in the header and the body', async () => {
    const res = await api('/api/v1/images/generations', { method: 'POST', headers: { 'x-request-id': 'bff-err-1' } });
    expect(res.status).toBe(401);
    expect(res.headers.get('x-request-id')).toBe('bff-err-1');
    expect((await res.json<{ error: { request_id: string } }>()).error.request_id).toBe('bff-err-1');
  });

  it('serves an OpenAPI 3.1 document generated from the route schemas', async () => {
    const res = await api('/openapi.json');
    expect(res.status).toBe(200);
    const doc = await res.json<{ openapi: string; paths: Record<string, unknown>; components: { schemas: Record<string, unknown> } }>();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/api/v1/images/generations', '/api/v1/tasks/{task_id}', '/api/v1/billing/credits', '/api/v1/models']),
    );
    // Answers are named schemas; request bodies are inline (see src/api/openapi-documents.ts).
    expect(doc.components.schemas).toHaveProperty('Task');
    expect(doc.components.schemas).toHaveProperty('Error');
  });
});

describe('result files', () => {
  it('answers 404 for unknown and malformed file ids', async () => {
    expect((await api(`/api/v1/files/img_${'A'.repeat(32)}`)).status).toBe(404);
    expect((await api('/api/v1/files/img_short')).status).toBe(404);
  });
});

describe('request bodies', () => {
  /** A body of `chunks` KiB with no declared length, counting how many KiB the Worker pulled. */
  function streamed(chunks: number): { body: ReadableStream<Uint8Array>; pulled: () => number } {
    let pulled = 0;
    const chunk = new TextEncoder().encode(`"${'x'.repeat(1022)}"`);
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulled === chunks) return controller.close();
        pulled += 1;
        controller.enqueue(chunk);
      },
    });
    return { body, pulled: () => pulled };
  }

  // workerd then logs "read end of pipe was aborted" for the KiB nobody read: that is the point.
  it('refuses a streamed body over 64 KiB with 413 before reading all of it', async () => {
    const { auth } = await customer();
    const { body, pulled } = streamed(1024);
    const res = await api('/api/v1/images/generations', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth },
      body,
    });
    expect(res.status).toBe(413);
    const { error } = await res.json<{ error: { code: string; message: string } }>();
    expect(error).toMatchObject({ code: 'payload_too_large', message: 'Request body exceeds 65536 bytes.' });
    expect(pulled()).toBeLessThan(1024);
  });

  it('passes a streamed body within 64 KiB on to the route, read once', async () => {
    const json = new TextEncoder().encode(JSON.stringify({ amount: 5, reference: crypto.randomUUID() }));
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(json.slice(0, 10));
        controller.enqueue(json.slice(10));
        controller.close();
      },
    });
    const res = await api(`/internal/v1/accounts/${newAccountId()}/credits`, {
      method: 'POST',
      headers: { ...INTERNAL, 'content-type': 'application/json' },
      body,
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ balance: 5 });
  });

  it('refuses a declared content-length over 64 KiB with 413, whatever the content type', async () => {
    const { auth } = await customer();
    const res = await api('/api/v1/images/generations', {
      method: 'POST',
      headers: { 'content-type': 'text/plain', 'content-length': String(64 * 1024 + 1), ...auth },
      body: 'x'.repeat(64 * 1024 + 1),
    });
    expect(res.status).toBe(413);
    expect((await res.json<{ error: { code: string } }>()).error.code).toBe('payload_too_large');
  });
});
