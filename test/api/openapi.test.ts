import { env } from 'cloudflare:workers';
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import committedInternal from '../../client/openapi/internal.json';
import committedPublic from '../../client/openapi/public.json';
import worker from '../../src/index';
import { api, INTERNAL, ORIGIN } from '../helpers';

/**
 * The two OpenAPI documents (issue 12, item 3): the customer API at `/openapi.json` for anyone, the
 * BFF's internal API at `/internal/openapi.json` behind the internal token; `npm test` also lints them
 * with redocly (scripts/openapi.ts --check).
 */

type Json = Record<string, unknown>;
interface Operation {
  operationId?: string;
  security?: Record<string, string[]>[];
  tags?: string[];
  parameters?: { name: string; in: string }[];
  requestBody?: { content: Record<string, { schema: Json }> };
}
interface Document {
  servers: { url: string }[];
  paths: Record<string, Record<string, Operation>>;
  webhooks?: Record<string, Record<string, Operation>>;
  tags: { name: string; description?: string }[];
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

/** `METHOD path` (or `webhook name`) and the operation, for every operation of a document. */
function operations(doc: Document): [string, Operation][] {
  const of = (items: Record<string, Record<string, Operation>>, label: (method: string, key: string) => string) =>
    Object.entries(items).flatMap(([key, item]) =>
      METHODS.filter((m) => item[m]).map((m): [string, Operation] => [label(m, key), item[m]!]),
    );
  return [...of(doc.paths, (m, path) => `${m.toUpperCase()} ${path}`), ...of(doc.webhooks ?? {}, (_, name) => `webhook ${name}`)];
}

async function publicDocument(): Promise<Document> {
  const res = await api('/openapi.json');
  expect(res.status).toBe(200);
  return res.json<Document>();
}

async function internalDocument(): Promise<Document> {
  const res = await api('/internal/openapi.json', { headers: INTERNAL });
  expect(res.status).toBe(200);
  return res.json<Document>();
}

/** Every property of an object schema, at any depth, with whether its object requires it. */
function properties(schema: unknown, at = ''): { path: string; schema: Json; required: boolean }[] {
  if (Array.isArray(schema)) return schema.flatMap((s, i) => properties(s, `${at}[${i}]`));
  if (typeof schema !== 'object' || schema === null) return [];
  const node = schema as Json;
  const required = new Set((node.required as string[] | undefined) ?? []);
  const own = Object.entries((node.properties as Record<string, Json> | undefined) ?? {}).map(([name, s]) => ({
    path: `${at}.${name}`,
    schema: s,
    required: required.has(name),
  }));
  const nested = Object.entries(node).flatMap(([key, value]) => (key === 'properties' ? [] : properties(value, `${at}.${key}`)));
  return [...own, ...own.flatMap((p) => properties(p.schema, p.path)), ...nested];
}

describe('GET /openapi.json and GET /internal/openapi.json', () => {
  it('serve what is committed in client/openapi/ (npm run openapi), with this deployment as the server', async () => {
    const [pub, internal] = await Promise.all([publicDocument(), internalDocument()]);
    // Tests run as development with PUBLIC_BASE_URL empty: the origin is the request's.
    expect(pub.servers).toEqual([{ url: ORIGIN, description: 'This deployment.' }]);
    expect(internal.servers).toEqual(pub.servers);
    const stale = 'client/openapi/ is stale: run `npm run openapi` and commit it';
    expect({ ...pub, servers: committedPublic.servers }, stale).toEqual(committedPublic);
    expect({ ...internal, servers: committedInternal.servers }, stale).toEqual(committedInternal);
  });

  /** The servers of the public document as the Worker serves it with these variables. */
  async function servers(vars: Partial<typeof env>, url: string, headers: Record<string, string> = {}): Promise<unknown> {
    const ctx = createExecutionContext();
    const res = await worker.fetch(new Request(url, { headers }), { ...env, ...vars }, ctx);
    await waitOnExecutionContext(ctx);
    return (await res.json<Document>()).servers;
  }

  it('name PUBLIC_BASE_URL as the server outside development, never the Host header, and no origin while it is unset', async () => {
    const production = { ENVIRONMENT: 'production', PUBLIC_BASE_URL: 'https://images.example.com/' };
    expect(await servers(production, `${ORIGIN}/openapi.json`, { host: 'evil.example.net' })).toEqual([
      { url: 'https://images.example.com', description: 'This deployment.' },
    ]);
    expect(await servers({ ...production, PUBLIC_BASE_URL: '' }, `${ORIGIN}/openapi.json`)).toEqual([
      { url: '/', description: 'Where this document was fetched from.' },
    ]);
  });

  it('name the origin the document was fetched from in development, so "Try it out" stays on the page’s origin', async () => {
    const dev = { ENVIRONMENT: 'development', PUBLIC_BASE_URL: 'http://localhost:8787' };
    expect(await servers(dev, 'http://127.0.0.1:8787/openapi.json')).toEqual([{ url: 'http://127.0.0.1:8787', description: 'This deployment.' }]);
  });

  it('keep the internal document behind the internal token', async () => {
    for (const headers of [{}, { authorization: 'Bearer not-the-token' }] as Record<string, string>[]) {
      const res = await api('/internal/openapi.json', { headers });
      expect(res.status).toBe(401);
      expect((await res.json<{ error: { code: string } }>()).error.code).toBe('unauthorized');
    }
  });

  it('put every internal route in the internal document and none in the public one', async () => {
    const [pub, internal] = await Promise.all([publicDocument(), internalDocument()]);
    expect(Object.keys(pub.paths).filter((p) => p.startsWith('/internal/'))).toEqual([]);
    expect(Object.keys(internal.paths).filter((p) => !p.startsWith('/internal/'))).toEqual([]);
    expect(Object.keys(internal.paths)).toContain('/internal/v1/accounts/{account_id}/keys');
    expect(JSON.stringify(pub)).not.toContain('internalToken');
    expect(operations(internal).filter(([, op]) => JSON.stringify(op.security) !== '[{"internalToken":[]}]')).toEqual([]);
  });

  it('give every operation of both documents an operationId, unique across the two', async () => {
    const all = [...operations(await publicDocument()), ...operations(await internalDocument())];
    expect(all.length).toBeGreaterThan(20);
    expect(all.filter(([, op]) => !op.operationId).map(([label]) => label)).toEqual([]);
    const seen = new Map<string, string>();
    const clashes = all.flatMap(([label, op]) => {
      const first = seen.get(op.operationId!);
      seen.set(op.operationId!, label);
      return first ? [`${op.operationId}: ${first} and ${label}`] : [];
    });
    expect(clashes).toEqual([]);
  });

  it('say for every public operation who may call it: a customer key, or `security: []` for anyone', async () => {
    const pub = await publicDocument();
    const unsaid = operations(pub).filter(([, op]) => !Array.isArray(op.security));
    expect(unsaid.map(([label]) => label)).toEqual([]);
    const open = operations(pub).filter(([, op]) => op.security!.length === 0).map(([label]) => label);
    expect(open).toEqual(expect.arrayContaining(['GET /api/v1/models', 'GET /api/v1/files/{file_id}', 'webhook task.finished']));
    expect(open).not.toContain('POST /api/v1/images/generations');
  });

  it('declare, with a description, every tag an operation carries', async () => {
    for (const doc of [await publicDocument(), await internalDocument()]) {
      const declared = new Map(doc.tags.map((t) => [t.name, t.description]));
      for (const [label, op] of operations(doc)) {
        expect(op.tags, label).toBeDefined();
        for (const tag of op.tags!) expect(declared.get(tag), `${label}: tag ${tag}`).toBeTruthy();
      }
    }
  });

  it('leave defaulted request fields optional, with request bodies inline so generated clients see them as input', async () => {
    const requests = [...operations(await publicDocument()), ...operations(await internalDocument())].filter(([label]) => !label.startsWith('webhook'));
    const bodies = requests.flatMap(([label, op]) =>
      Object.entries(op.requestBody?.content ?? {}).map(([media, { schema }]) => ({ label: `${label} ${media}`, schema })),
    );
    expect(bodies.length).toBeGreaterThan(3);
    for (const { label, schema } of bodies) expect(JSON.stringify(schema), label).not.toContain('"$ref"');
    const defaulted = bodies.flatMap(({ label, schema }) => properties(schema).map((p) => ({ ...p, label })));
    const flux2 = defaulted.find((p) => p.label.startsWith('POST /api/v1/images/generations') && p.path.endsWith('.aspect_ratio'));
    expect(flux2?.schema.default).toBe('1:1');
    expect(defaulted.filter((p) => 'default' in p.schema && p.required).map((p) => `${p.label} ${p.path}`)).toEqual([]);
  });

  it('describe the webhook a callback_url receives: the task, with the Standard Webhooks headers', async () => {
    const hook = (await publicDocument()).webhooks?.['task.finished']?.post;
    expect(hook?.operationId).toBe('taskFinished');
    expect(hook?.parameters?.filter((p) => p.in === 'header').map((p) => p.name).sort()).toEqual([
      'webhook-id',
      'webhook-signature',
      'webhook-timestamp',
    ]);
    // What we send, like an answer: the Task component, whose fields are all there.
    expect(hook?.requestBody?.content['application/json']?.schema).toEqual({ $ref: '#/components/schemas/Task' });
  });
});
