import { describe, expect, it } from 'vitest';
import { api, customer, INTERNAL } from '../helpers';

type ErrorBody = { error: { code: string; param: string | null } };
const LONG = 'k'.repeat(600);

describe('path parameters: a length and an alphabet, checked before any storage is touched', () => {
  it.each([
    ['600 characters', `key_${LONG}`],
    ['the right length in the wrong alphabet', 'key_../../../../../..'],
    ['no key_ prefix', 'abcd_7Hq2Lm9Xc4Vb1Nz8'],
  ])('DELETE /internal/v1/keys/{key_id} answers 400 naming key_id for %s', async (_case, keyId) => {
    const res = await api(`/internal/v1/keys/${encodeURIComponent(keyId)}`, { method: 'DELETE', headers: INTERNAL });
    expect(res.status).toBe(400);
    expect((await res.json<ErrorBody>()).error).toMatchObject({ code: 'invalid_request', param: 'key_id' });
  });

  it('DELETE /internal/v1/keys/{key_id} still answers 404 for a well-formed unknown key', async () => {
    const res = await api('/internal/v1/keys/key_0000000000000000', { method: 'DELETE', headers: INTERNAL });
    expect(res.status).toBe(404);
  });

  it.each([
    ['POST', '/internal/v1/accounts/{}/keys'],
    ['GET', '/internal/v1/accounts/{}/credits'],
    ['POST', '/internal/v1/accounts/{}/webhook-secret'],
    ['GET', '/internal/v1/accounts/{}/reconciliation'],
  ])('%s %s answers 400 naming account_id for 600 characters', async (method, path) => {
    const res = await api(path.replace('{}', LONG), { method, headers: INTERNAL });
    expect(res.status).toBe(400);
    expect((await res.json<ErrorBody>()).error).toMatchObject({ code: 'invalid_request', param: 'account_id' });
  });

  it.each([
    ['GET', '/api/v1/tasks/{}', 'task_id'],
    ['POST', '/api/v1/tasks/{}/webhook/redeliver', 'task_id'],
    ['GET', '/api/v1/files/{}', 'file_id'],
    ['GET', '/api/v1/models/{}', 'model_id'],
  ])('%s %s answers a malformed id like an unknown one: 404 naming the parameter', async (method, path, param) => {
    const { auth } = await customer();
    for (const id of [LONG, 'task_%00%00', '..%2F..%2Fetc']) {
      const res = await api(path.replace('{}', id), { method, headers: auth });
      expect([id, res.status]).toEqual([id, 404]);
      expect((await res.json<ErrorBody>()).error).toMatchObject({ code: 'not_found', param });
    }
  });

  it('shows every path parameter’s rule in the OpenAPI document', async () => {
    type Parameter = { in: string; name: string; schema: { pattern?: string; maxLength?: number } };
    type Doc = { paths: Record<string, Record<string, { parameters?: Parameter[] }>> };
    const docs = [await (await api('/openapi.json')).json<Doc>(), await (await api('/internal/openapi.json', { headers: INTERNAL })).json<Doc>()];
    const pathParams = docs.flatMap((doc) => Object.values(doc.paths)).flatMap((methods) =>
      Object.values(methods).flatMap((operation) => (operation.parameters ?? []).filter((p) => p.in === 'path')),
    );
    expect(new Set(pathParams.map((p) => p.name))).toEqual(new Set(['task_id', 'file_id', 'model_id', 'key_id', 'account_id']));
    for (const parameter of pathParams) {
      expect([parameter.name, typeof parameter.schema.pattern]).toEqual([parameter.name, 'string']);
    }
    const maxLength = Object.fromEntries(pathParams.map((p) => [p.name, p.schema.maxLength]));
    expect(maxLength).toMatchObject({ task_id: 27, file_id: 36, key_id: 20, model_id: 64 });
  });
});
