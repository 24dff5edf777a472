import { describe, expect, it } from 'vitest';
import { api } from '../helpers';

interface Operation {
  operationId?: string;
  security?: unknown[];
  responses: Record<string, unknown>;
}

describe('GET /healthz', () => {
  it('answers 200 {"status":"ok"} without credentials', async () => {
    const res = await api('/healthz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
    expect(res.headers.get('x-request-id')).toMatch(/^req_/);
  });

  it('ignores credentials it does not need', async () => {
    const res = await api('/healthz', { headers: { authorization: 'Bearer not-a-key' } });
    expect(res.status).toBe(200);
  });

  it('is in /openapi.json as getHealth, public (security: [])', async () => {
    const doc = await (await api('/openapi.json')).json<{ paths: Record<string, Record<string, Operation>> }>();
    const operation = doc.paths['/healthz']?.get;
    expect(operation).toMatchObject({ operationId: 'getHealth', security: [] });
    expect(Object.keys(operation!.responses)).toEqual(expect.arrayContaining(['200', '429']));
  });
});
