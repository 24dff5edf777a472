import bfl from '../../fixtures/providers/bfl.json';
import geminiImagen from '../../fixtures/providers/gemini-imagen.json';
import ideogram from '../../fixtures/providers/ideogram.json';
import openai from '../../fixtures/providers/openai.json';
import recraft from '../../fixtures/providers/recraft.json';
import wavespeed from '../../fixtures/providers/wavespeed.json';
import xai from '../../fixtures/providers/xai.json';
import type { ProviderInfo } from '../../../src/providers/types';
import { check, resolveRef, type Schema } from './schema-check';

/**
 * The providers' published API descriptions (test/fixtures/providers/*.json) and how a recorded
 * exchange is held to them: which endpoint a request is, whether its headers and body fit, and
 * whether an answer fits the description of its status.
 */

/** Each fixture by its file name, as the adapters' `facts.description.fixture` names it. */
const FIXTURES: Record<string, Schema> = {
  'bfl.json': bfl,
  'gemini-imagen.json': geminiImagen,
  'ideogram.json': ideogram,
  'openai.json': openai,
  'recraft.json': recraft,
  'wavespeed.json': wavespeed,
  'xai.json': xai,
};

export interface Endpoint {
  name: string;
  /** `METHOD /path`, as the adapters' `facts.endpoints` name it. */
  call: string;
  method: string;
  path: string;
  spec: Schema;
}

/** One request as it went out: what the contract checks of it. */
export interface WireRequest {
  url: string;
  method: string;
  headers: Headers;
  /** Parsed JSON body, or the multipart form, or nothing. */
  json?: unknown;
  form?: FormData;
}

/** The fixture of a provider, found through its declaration. */
export function descriptionOf(provider: ProviderInfo): Schema {
  const file = provider.facts?.description.fixture;
  const fixture = file ? FIXTURES[file] : undefined;
  if (!fixture) throw new Error(`${provider.id} declares no contract fixture (facts.description.fixture)`);
  return fixture;
}

export function endpointsOf(fixture: Schema): Endpoint[] {
  return Object.entries(fixture.endpoints as Record<string, Schema>).map(([name, spec]) => ({
    name,
    call: `${String(spec.method)} ${String(spec.path)}`,
    method: String(spec.method),
    path: String(spec.path),
    spec,
  }));
}

const escape = (text: string) => text.replace(/[.*+?^$()|[\]\\]/g, '\\$&');

/** The path's parameters when `pathname` is this endpoint's path (`{model}` may hold slashes). */
function matchPath(template: string, pathname: string): Record<string, string> | null {
  const names: string[] = [];
  const pattern = template
    .split(/(\{\w+\})/)
    .map((part) => {
      const name = /^\{(\w+)\}$/.exec(part)?.[1];
      if (!name) return escape(part);
      names.push(name);
      return '(.+?)';
    })
    .join('');
  const match = new RegExp(`^${pattern}$`).exec(pathname);
  return match ? Object.fromEntries(names.map((name, i) => [name, decodeURIComponent(match[i + 1]!)])) : null;
}

/** The endpoint of the description a request is for, with its path parameters; throws when none fits. */
export function endpointFor(fixture: Schema, method: string, url: string): { endpoint: Endpoint; params: Record<string, string> } {
  const { pathname } = new URL(url);
  for (const endpoint of endpointsOf(fixture)) {
    if (endpoint.method !== method) continue;
    const params = matchPath(endpoint.path, pathname);
    if (params) return { endpoint, params };
  }
  throw new Error(`${method} ${pathname} is no endpoint of ${String(fixture.provider)}'s description`);
}

/** The request schema: the endpoint's own, or for a per-model API (WaveSpeed) the model's. */
function requestSchema(fixture: Schema, endpoint: Endpoint, params: Record<string, string>): Schema | undefined {
  const models = fixture.models as Record<string, { request: Schema }> | undefined;
  if (params.model && models) {
    const model = models[params.model];
    if (!model) throw new Error(`model ${params.model} is not in ${String(fixture.provider)}'s description`);
    return model.request;
  }
  return endpoint.spec.request as Schema | undefined;
}

/** A multipart form as the object its schema describes: files as `binary`, numbers where the schema wants them. */
function formObject(form: FormData, schema: Schema): Record<string, unknown> {
  const properties = (schema.properties ?? {}) as Record<string, Schema>;
  const object: Record<string, unknown> = {};
  for (const name of new Set(form.keys())) {
    const property = properties[name] ?? {};
    const types = [property.type].flat();
    const values = form.getAll(name).map((value): unknown => {
      if (typeof value !== 'string') return 'binary';
      if ((types.includes('integer') || types.includes('number')) && /^-?\d+(\.\d+)?$/.test(value)) return Number(value);
      return value;
    });
    object[name] = types.includes('array') ? values : values.length === 1 ? values[0] : values;
  }
  return object;
}

/**
 * The problems of one outgoing request against the description: its endpoint, auth header, content
 * type, query and body. Returns the endpoint it was for.
 */
export function checkRequest(
  provider: ProviderInfo,
  request: WireRequest,
  options: { keyless?: boolean } = {},
): { endpoint: Endpoint; problems: string[] } {
  const fixture = descriptionOf(provider);
  const { endpoint, params } = endpointFor(fixture, request.method, request.url);
  const problems: string[] = [];
  const where = `${endpoint.call}`;

  const allowedOrigins = (fixture.base_urls as string[]).map((base) => new URL(base).origin);
  if (!allowedOrigins.includes(new URL(provider.defaultBaseUrl).origin)) problems.push(`${where}: base URL ${provider.defaultBaseUrl} is not the provider's`);

  const auth = fixture.auth as { header: string; scheme?: string };
  const key = request.headers.get(auth.header);
  if (options.keyless) {
    // Sent without a key on purpose, to see the provider refuse it.
  } else if (!key) problems.push(`${where}: no ${auth.header} header`);
  else if (auth.scheme?.startsWith('Bearer') && !/^Bearer \S+$/.test(key)) problems.push(`${where}: ${auth.header} is not "Bearer <key>"`);

  const query = (endpoint.spec.query ?? {}) as Record<string, { required?: boolean }>;
  const search = new URL(request.url).searchParams;
  for (const [name, rule] of Object.entries(query)) if (rule.required && !search.has(name)) problems.push(`${where}: query ${name} is required`);
  for (const name of search.keys()) if (!(name in query)) problems.push(`${where}: query ${name} is not in the description`);

  const schema = requestSchema(fixture, endpoint, params);
  const contentTypes = [endpoint.spec.content_type ?? []].flat() as string[];
  if (request.method === 'GET') {
    if (request.json !== undefined || request.form) problems.push(`${where}: a GET with a body`);
    return { endpoint, problems };
  }
  if (!schema) return { endpoint, problems: [...problems, `${where}: the description has no request schema`] };
  if (request.form) {
    if (!contentTypes.includes('multipart/form-data')) problems.push(`${where}: sent multipart, the description says ${contentTypes.join(', ')}`);
    problems.push(...check(formObject(request.form, schema), schema, { root: fixture }, `${where} form`));
  } else {
    if (!contentTypes.includes('application/json')) problems.push(`${where}: sent JSON, the description says ${contentTypes.join(', ')}`);
    if (!request.headers.get('content-type')?.startsWith('application/json')) problems.push(`${where}: JSON sent without its content type`);
    problems.push(...check(request.json, schema, { root: fixture }, `${where} body`));
  }
  return { endpoint, problems };
}

/**
 * The description of an answer with this status: the status itself, then `4xx`/`5xx`, `4xx/5xx`,
 * `non_200`/`non_2xx`. Every HTTP API can fail with a 5xx, so an unlisted 5xx is described as
 * "any body"; any other unlisted status is undefined (reported by the caller).
 */
export function responseFor(endpoint: Endpoint, status: number): Schema | undefined {
  const responses = (endpoint.spec.responses ?? {}) as Record<string, Schema>;
  const ok = status >= 200 && status < 300;
  const keys = [String(status), `${String(status)[0]}xx`, ...(ok ? [] : ['4xx/5xx', 'non_200', 'non_2xx'])];
  for (const key of keys) {
    const entry = responses[key];
    if (entry) return (entry.body as Schema | undefined) ?? entry;
  }
  return status >= 500 ? {} : undefined;
}

/** The problems of one answer against the description of its endpoint and status. */
export function checkAnswer(
  provider: ProviderInfo,
  endpoint: Endpoint,
  answer: { status: number; body: string; contentType: string },
  allowedExtras: readonly string[] = [],
): string[] {
  const fixture = descriptionOf(provider);
  const where = `${endpoint.call} → ${answer.status}`;
  const schema = responseFor(endpoint, answer.status);
  if (!schema) return [`${where}: the description lists no such answer`];
  const described = Object.keys(resolveRef(schema, fixture)).some((key) => !key.startsWith('x-') && key !== 'description' && key !== 'title');
  if (!described) return [];
  let json: unknown;
  try {
    json = JSON.parse(answer.body);
  } catch {
    return [`${where}: the body is not JSON (${answer.contentType}): ${answer.body.slice(0, 80)}`];
  }
  return check(json, schema, { root: fixture, allowedExtras }, `${where} body`);
}
