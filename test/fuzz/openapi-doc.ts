/**
 * The parts of the Worker's own OpenAPI 3.1 document that the fuzzer reads, and the operations in it.
 * Nothing here knows a route by name: what is fuzzed is whatever `/openapi.json` lists at test time.
 */

/** The JSON Schema subset zod-openapi emits (and a little more, so new schemas do not break the reader). */
export interface JsonSchema {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  allOf?: JsonSchema[];
  discriminator?: { propertyName: string };
  default?: unknown;
  example?: unknown;
}

interface RawParameter {
  name: string;
  in: string;
  required?: boolean;
  schema?: JsonSchema;
}

interface RawOperation {
  parameters?: RawParameter[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: JsonSchema }> };
  responses?: Record<string, { content?: Record<string, unknown> }>;
  security?: Record<string, string[]>[];
}

export interface OpenApiDoc {
  paths: Record<string, Record<string, RawOperation>>;
  components?: {
    schemas?: Record<string, JsonSchema>;
    securitySchemes?: Record<string, { type?: string; scheme?: string }>;
  };
}

export interface Param {
  name: string;
  required: boolean;
  schema: JsonSchema;
}

/** Who may call an operation: a customer key, the BFF's internal token, or anyone. */
export type AuthKind = 'customer' | 'internal' | 'none';

export interface Operation {
  /** Upper case, as sent. */
  method: string;
  /** The path template, `{name}` for parameters. */
  template: string;
  /** `METHOD template`, how reports name it. */
  label: string;
  path: Param[];
  query: Param[];
  header: Param[];
  /** The request body's schema (with `$ref`s resolved) and its media types, or null. */
  body: { required: boolean; schema: JsonSchema; mediaTypes: string[] } | null;
  /** Every status the operation documents; `default` documents every status. */
  statuses: Set<number>;
  documentsDefault: boolean;
  /** Documented media types per status, for a light check of success answers. */
  mediaTypes: Map<number, string[]>;
  auth: AuthKind;
  /** Anything but GET: a request the server accepts may change state. */
  mutating: boolean;
}

export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

/** Replaces every `$ref` with the schema it names (the document has no recursive schemas; depth guards anyway). */
export function deref(schema: JsonSchema, doc: OpenApiDoc, depth = 0): JsonSchema {
  if (depth > 32) throw new Error('schema nests deeper than 32 $refs: recursive?');
  if (schema.$ref) {
    const name = schema.$ref.replace('#/components/schemas/', '');
    const target = doc.components?.schemas?.[name];
    if (!target) throw new Error(`unresolved $ref ${schema.$ref}`);
    return deref(target, doc, depth + 1);
  }
  const out: JsonSchema = { ...schema };
  if (schema.properties) {
    out.properties = Object.fromEntries(Object.entries(schema.properties).map(([k, v]) => [k, deref(v, doc, depth + 1)]));
  }
  if (schema.items) out.items = deref(schema.items, doc, depth + 1);
  if (typeof schema.additionalProperties === 'object') out.additionalProperties = deref(schema.additionalProperties, doc, depth + 1);
  for (const key of ['oneOf', 'anyOf', 'allOf'] as const) {
    if (schema[key]) out[key] = schema[key].map((s) => deref(s, doc, depth + 1));
  }
  return out;
}

/** Internal when the scheme's name says so or the path is under `/internal/` (a route that forgot `security`). */
function authOf(template: string, raw: RawOperation): AuthKind {
  const schemes = (raw.security ?? []).flatMap((requirement) => Object.keys(requirement));
  if (template.startsWith('/internal/') || schemes.some((s) => /internal/i.test(s))) return 'internal';
  return schemes.length > 0 ? 'customer' : 'none';
}

/**
 * The customer and the internal documents as one: their paths side by side, their components together
 * (a component both use, such as `Error`, is the same schema in each).
 */
export function merged(...docs: OpenApiDoc[]): OpenApiDoc {
  const out: Required<OpenApiDoc>['components'] & { schemas: Record<string, JsonSchema> } = { schemas: {}, securitySchemes: {} };
  const paths: OpenApiDoc['paths'] = {};
  for (const doc of docs) {
    for (const [path, item] of Object.entries(doc.paths)) {
      if (path in paths) throw new Error(`${path} is in two documents`);
      paths[path] = item;
    }
    for (const [name, schema] of Object.entries(doc.components?.schemas ?? {})) {
      if (name in out.schemas && JSON.stringify(out.schemas[name]) !== JSON.stringify(schema)) {
        throw new Error(`component ${name} differs between the documents`);
      }
      out.schemas[name] = schema;
    }
    Object.assign(out.securitySchemes!, doc.components?.securitySchemes);
  }
  return { paths, components: out };
}

/** Every operation of the document, in document order. */
export function operations(doc: OpenApiDoc): Operation[] {
  const ops: Operation[] = [];
  for (const [template, methods] of Object.entries(doc.paths)) {
    for (const method of HTTP_METHODS) {
      const raw = methods[method];
      if (!raw) continue;
      const params = (raw.parameters ?? []).map((p) => ({
        in: p.in,
        param: { name: p.name, required: p.required ?? p.in === 'path', schema: deref(p.schema ?? {}, doc) },
      }));
      const content = raw.requestBody?.content ?? {};
      const mediaTypes = Object.keys(content);
      const bodySchema = mediaTypes.map((m) => content[m]?.schema).find((s) => s !== undefined);
      const statuses = new Set<number>();
      const responseTypes = new Map<number, string[]>();
      for (const [status, response] of Object.entries(raw.responses ?? {})) {
        if (!/^\d{3}$/.test(status)) continue;
        statuses.add(Number(status));
        responseTypes.set(Number(status), Object.keys(response.content ?? {}));
      }
      ops.push({
        method: method.toUpperCase(),
        template,
        label: `${method.toUpperCase()} ${template}`,
        path: params.filter((p) => p.in === 'path').map((p) => p.param),
        query: params.filter((p) => p.in === 'query').map((p) => p.param),
        header: params.filter((p) => p.in === 'header').map((p) => p.param),
        body: bodySchema ? { required: raw.requestBody?.required ?? false, schema: deref(bodySchema, doc), mediaTypes } : null,
        statuses,
        documentsDefault: 'default' in (raw.responses ?? {}),
        mediaTypes: responseTypes,
        auth: authOf(template, raw),
        mutating: method !== 'get',
      });
    }
  }
  return ops;
}

/** A path template as a regular expression over concrete paths (one segment per parameter). */
export function templatePattern(template: string): RegExp {
  const source = template
    .split('/')
    .map((part) => (/^\{.+\}$/.test(part) ? '[^/]+' : part.replace(/[.*+?^$()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${source}$`);
}
