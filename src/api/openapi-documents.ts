import { z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AppEnv } from '../env';
import { TaskSchema } from '../tasks/task.schema';
import { publicOrigin } from './public-origin';

/**
 * The Worker's two OpenAPI 3.1 documents, built from the routes' own declarations: the customer API
 * (`GET /openapi.json`, public) and the BFF's internal API (`GET /internal/openapi.json`, behind the
 * internal token). `npm run openapi` writes the same documents into client/openapi/ (with a server
 * variable in place of this deployment's origin), and `npm test` lints them with redocly and checks
 * that they and the client types generated from them are not stale.
 */

export type Audience = 'public' | 'internal';

type Json = { [key: string]: unknown };
type Document = Json & { paths: Record<string, Json>; components?: Json & { schemas?: Record<string, Json> } };

/** A server entry: this deployment's origin, or a variable for the documents that describe any deployment. */
export interface ServerObject {
  url: string;
  description?: string;
  variables?: Record<string, { default: string; description?: string }>;
}

const INFO: Record<Audience, Json> = {
  public: {
    title: 'Image generation API',
    version: '1.0.0',
    description:
      'One endpoint for many image models: create a task, then poll it, wait for it (`Prefer: wait=N`), stream it or ' +
      'receive it as a signed webhook. Prices are in prepaid credits, reserved when a task is created and refunded ' +
      'when it fails. Every error has one shape, `{ "error": { "type", "code", "message", "param", "details", "request_id" } }`.',
  },
  internal: {
    title: 'Image generation API: internal routes',
    version: '1.0.0',
    description:
      'Called by the BFF and the dashboard only, with `Authorization: Bearer <INTERNAL_API_TOKEN>`: API keys, credits, ' +
      'rate limits and webhook secrets of accounts.',
  },
};

/**
 * The repository carries no licence (package.json is private): the API and this description are
 * proprietary. `LicenseRef-` is SPDX's form for a licence that is not on its list.
 */
const LICENSE = { name: 'Proprietary', identifier: 'LicenseRef-Proprietary' };

/** Every tag an operation may carry, in the order the reference page lists them. */
const TAGS: Record<string, string> = {
  images: 'Create image generation tasks, for any model of the catalog.',
  tasks: 'Follow, list, cancel and stream your tasks.',
  files: 'Result images, served by the Worker.',
  billing: 'Prepaid credits: balance, reservations and the ledger.',
  models: 'The catalog: models, prices, parameters and live status.',
  webhooks: 'Signed task webhooks (Standard Webhooks): the signing secret, redelivery, and the event itself.',
  openai: "OpenAI's Images API, for the official OpenAI SDKs: `baseURL = <origin>/v1` and an `aio_` key, any catalog model.",
  operations: 'Health checks for load balancers and uptime monitors.',
  internal: 'The BFF and the dashboard: API keys, credits, rate limits and webhook secrets of accounts.',
};

/**
 * What a customer's `callback_url` receives when a task ends: registered on the root app in src/index.ts
 * (a name, not a path: zod-to-openapi keys webhooks by the route's `path`).
 */
export const taskFinishedWebhook = {
  method: 'post' as const,
  path: 'task.finished',
  operationId: 'taskFinished',
  tags: ['webhooks'],
  summary: 'A task finished',
  description:
    'POSTed to the task’s `callback_url` when it reaches `succeeded`, `failed` or `canceled`: the task as ' +
    '`GET /api/v1/tasks/{task_id}` returns it. Signed per Standard Webhooks with the account’s secret ' +
    '(`GET /api/v1/webhooks/secret`): verify `webhook-signature` over `{webhook-id}.{webhook-timestamp}.{body}` ' +
    'with a Standard Webhooks library before trusting the body. Delivered at least once: retried with backoff ' +
    'until the receiver answers 2xx or the schedule ends, always with the same `webhook-id`, so deduplicate on it.',
  // The receiver authenticates us by the signature, not by a credential we send.
  security: [],
  request: {
    headers: z.object({
      'webhook-id': z.string().openapi({ description: 'The event’s id: the same on every attempt and redelivery.' }),
      'webhook-timestamp': z.string().openapi({ description: 'Unix seconds of this attempt; reject ones far from now.' }),
      'webhook-signature': z.string().openapi({
        description: 'Space-separated `v1,<base64 HMAC-SHA256>` signatures, one per secret in use (two while one is rotated out).',
      }),
    }),
    body: { required: true, content: { 'application/json': { schema: TaskSchema } } },
  },
  responses: {
    200: { description: 'Any 2xx acknowledges the delivery. Anything else, a redirect or no answer within 10 s is retried.' },
  },
};

/** The part of a route path that says which document it belongs to. */
const audienceOf = (path: string): Audience => (path.startsWith('/internal/') ? 'internal' : 'public');

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const refName = (ref: string): string => ref.replace('#/components/schemas/', '');

/** Every `$ref` under `node`. */
function refsIn(node: unknown, found: Set<string> = new Set()): Set<string> {
  if (Array.isArray(node)) for (const item of node) refsIn(item, found);
  else if (isObject(node)) {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') found.add(value);
      else refsIn(value, found);
    }
  }
  return found;
}

/**
 * A request body's schema with every `$ref` replaced by the schema it names (titled with the name).
 * Why: openapi-typescript, run with its defaults, types a property that has a `default` as always
 * present, except inside a request body, where the client may leave it out. A named component cannot
 * say which side it is on, so request bodies carry their schemas inline and the components describe
 * what the API answers. A discriminator's mapping points at components, which inline members are not;
 * each member still pins the discriminating property to its own value, which is what tells them apart.
 */
function inlined(node: unknown, schemas: Record<string, Json>, refs = 0): unknown {
  if (Array.isArray(node)) return node.map((item) => inlined(item, schemas, refs));
  if (!isObject(node)) return node;
  if (typeof node.$ref === 'string') {
    if (refs >= 32) throw new Error(`${node.$ref} is reached through 32 references: a recursive schema cannot be inlined`);
    const name = refName(node.$ref);
    const target = schemas[name];
    if (!target) throw new Error(`unresolved $ref ${node.$ref}`);
    const { $ref: _ref, ...siblings } = node;
    return inlined({ title: name, ...target, ...siblings }, schemas, refs + 1);
  }
  const out: Json = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'discriminator' && isObject(value) && isObject(value.mapping)) continue;
    out[key] = inlined(value, schemas, refs);
  }
  return out;
}

/** The operations of a path item or webhook, by method. */
const operationsOf = (item: Json): Json[] =>
  ['get', 'put', 'post', 'delete', 'patch'].map((m) => item[m]).filter(isObject);

/** One audience's document cut out of the whole one: its paths, the components they reach, the tags they use. */
function cut(whole: Document, audience: Audience): Document {
  const schemas = whole.components?.schemas ?? {};
  const paths = Object.fromEntries(Object.entries(whole.paths).filter(([path]) => audienceOf(path) === audience));
  const webhooks = audience === 'public' && isObject(whole.webhooks) ? (whole.webhooks as Record<string, Json>) : {};
  const items = [...Object.values(paths), ...Object.values(webhooks)];
  // A webhook's body is what we send: it stays a reference to the component, as an answer would.
  for (const operation of Object.values(paths).flatMap(operationsOf)) {
    const body = operation.requestBody;
    if (isObject(body) && isObject(body.content)) {
      for (const media of Object.values(body.content)) if (isObject(media)) media.schema = inlined(media.schema, schemas);
    }
  }
  // What the paths and webhooks reach, following references through the components.
  const reached = new Set<string>();
  const pending = [...refsIn(items)];
  while (pending.length > 0) {
    const name = refName(pending.pop()!);
    if (reached.has(name)) continue;
    reached.add(name);
    pending.push(...refsIn(schemas[name]));
  }
  const operations = items.flatMap(operationsOf);
  const schemes = new Set(operations.flatMap((op) => (Array.isArray(op.security) ? op.security : []).flatMap((s) => Object.keys(s))));
  const used = new Set(operations.flatMap((op) => (Array.isArray(op.tags) ? (op.tags as string[]) : [])));
  const securitySchemes = (whole.components?.securitySchemes ?? {}) as Record<string, Json>;
  return {
    openapi: whole.openapi,
    info: { ...INFO[audience], license: LICENSE },
    tags: [
      ...Object.entries(TAGS).filter(([name]) => used.has(name)).map(([name, description]) => ({ name, description })),
      // A tag missing from TAGS is declared without a description, which the lint in `npm test` reports.
      ...[...used].filter((name) => !(name in TAGS)).map((name) => ({ name })),
    ],
    paths,
    ...(Object.keys(webhooks).length > 0 ? { webhooks } : {}),
    components: {
      schemas: Object.fromEntries(Object.entries(schemas).filter(([name]) => reached.has(name))),
      securitySchemes: Object.fromEntries(Object.entries(securitySchemes).filter(([name]) => schemes.has(name))),
    },
  };
}

const built = new WeakMap<object, Record<Audience, Document>>();

/**
 * Both documents of an app, without `servers`; built once per isolate (the routes do not change after
 * start-up) and never modified afterwards.
 */
export function openApiDocuments(app: OpenAPIHono<AppEnv>): Record<Audience, Document> {
  let documents = built.get(app);
  if (!documents) {
    const whole = app.getOpenAPI31Document({ openapi: '3.1.0', info: { title: '', version: '' } }) as unknown as Document;
    // Each cut mutates request bodies in place: give each its own copy.
    const copy = (): Document => structuredClone(whole);
    documents = { public: cut(copy(), 'public'), internal: cut(copy(), 'internal') };
    built.set(app, documents);
  }
  return documents;
}

/** A document with its `servers`, placed after `info` where readers look for it. */
export function withServers(document: Document, servers: ServerObject[]): Document {
  const { openapi, info, ...rest } = document;
  return { openapi, info, servers, ...rest };
}

/**
 * The document as this deployment serves it: its server is the public origin, `PUBLIC_BASE_URL`, so
 * generated clients and "Try it out" on the reference page reach it. In development it is the origin the
 * document was fetched from: `wrangler dev` answers on localhost and 127.0.0.1 alike, and the page's
 * Content-Security-Policy lets "Try it out" call its own origin only. A deployment without a usable
 * origin (task creation refuses to run there too) names none and says "relative to where this document
 * was fetched" instead of trusting the Host header.
 */
export function servedDocument(app: OpenAPIHono<AppEnv>, audience: Audience, c: Context<AppEnv>): Document {
  const origin = c.env.ENVIRONMENT === 'development' ? { ok: true as const, origin: new URL(c.req.url).origin } : publicOrigin(c.env, c.req.url);
  const server = origin.ok ? { url: origin.origin, description: 'This deployment.' } : { url: '/', description: 'Where this document was fetched from.' };
  return withServers(openApiDocuments(app)[audience], [server]);
}
