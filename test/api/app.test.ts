import { describe, expect, it } from 'vitest';
import { api } from '../helpers';

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
    expect(replaced.headers.get('x-request-id')).toMatch(/^req_/);
  });

  it('serves an OpenAPI 3.1 document generated from the route schemas', async () => {
    const res = await api('/openapi.json');
    expect(res.status).toBe(200);
    const doc = await res.json<{ openapi: string; paths: Record<string, unknown>; components: { schemas: Record<string, unknown> } }>();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/api/v1/images/generations', '/api/v1/tasks/{task_id}', '/api/v1/billing/credits', '/api/v1/models']),
    );
    expect(doc.components.schemas).toHaveProperty('Flux2Request');
    expect(doc.components.schemas).toHaveProperty('Error');
  });
});

describe('result files', () => {
  it('answers 404 for unknown and malformed file ids', async () => {
    expect((await api(`/api/v1/files/img_${'A'.repeat(32)}`)).status).toBe(404);
    expect((await api('/api/v1/files/img_short')).status).toBe(404);
  });
});
