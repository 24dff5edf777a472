import fc from 'fast-check';
import { HTTP_METHODS, type Operation, type Param } from './openapi-doc';
import {
  AMBIGUOUS_TYPES,
  authValues,
  badAuth,
  fillPath,
  headerValue,
  invalidPathValue,
  JSON_TYPES,
  malformed,
  MAX_BODY_BYTES,
  multipartBody,
  noiseHeaders,
  NOT_JSON_TYPES,
  pathValue,
  queryString,
  sized,
  utf8,
  type Body,
  type Fixtures,
} from './request-parts';
import {
  conforms,
  invalidArb,
  invalidHeaderValue,
  invalidQueryValue,
  toJsonText,
  validArb,
  validQueryValue,
  type GenOptions,
} from './schema-arbitraries';

/**
 * Planned requests: one fast-check arbitrary per operation of the document, each request either valid
 * (as far as the document can say: a documented 4xx such as 404, 402 or a semantic 400 is still a
 * fair answer) or broken in exactly one place, the defect, whose kind fixes the statuses the answer may
 * have. The watched account is named only by requests the server must refuse, so its state may never
 * move; valid requests that change state go to the worker account, scratch accounts or spare keys.
 */

export type DefectKind = 'auth' | 'path' | 'query' | 'header' | 'body' | 'syntax' | 'media-type' | 'size';

/** The statuses a request broken in one place may get (size-dependent kinds are settled by `expectedStatuses`). */
const DEFECT_STATUSES: Record<DefectKind, number[]> = {
  auth: [401],
  path: [400, 404],
  query: [400],
  header: [400],
  body: [400],
  syntax: [400],
  'media-type': [415],
  size: [413],
};

export interface Defect {
  kind: DefectKind;
  /** The field a 400 must name ('' for the body itself, '*' for any field). */
  field: string;
  note: string;
}

export interface Plan {
  kind: 'operation' | 'undocumented-method' | 'unknown-path';
  op: Operation | null;
  method: string;
  /** Path (placeholders allowed, see `Placeholders`) and query string (`''` or `?…`). */
  path: string;
  query: string;
  headers: [string, string][];
  body: Body | null;
  intent: 'valid' | 'invalid' | 'off-document';
  defect: Defect | null;
  /** The request names the watched account (its key, its id, its key id or task): it must be refused. */
  touchesWatched: boolean;
  /** A valid request that makes the Worker generate images. */
  createsWork: boolean;
}

interface Shape {
  op: Operation;
  f: Fixtures;
}

/** Who makes a valid request and whether it makes the Worker generate images. */
function validCaller({ op, f }: Shape): { auth: fc.Arbitrary<string | null>; role: 'read' | 'write'; createsWork: boolean } {
  const createsWork = op.auth === 'customer' && op.method === 'POST' && op.body !== null;
  if (op.auth === 'internal') {
    return { auth: authValues('internal', f, ''), role: op.mutating ? 'write' : 'read', createsWork: false };
  }
  if (op.auth === 'customer' && op.mutating) return { auth: authValues('customer', f, f.worker.apiKey), role: 'write', createsWork };
  if (op.auth === 'customer') {
    const watched = authValues('customer', f, f.watched.apiKey);
    const worker = authValues('customer', f, f.worker.apiKey);
    return { auth: fc.oneof({ weight: 4, arbitrary: watched }, { weight: 1, arbitrary: worker }), role: 'read', createsWork: false };
  }
  // A public route: credentials, good or bad, change nothing.
  const any = fc.constantFrom(null, 'Bearer nonsense', `Bearer ${f.watched.apiKey}`, 'Basic Zm9vOmJhcg==');
  return { auth: any, role: 'read', createsWork: false };
}

interface Parts {
  pathValues: Record<string, string>;
  query: [string, string][];
  headers: [string, string][];
  body: Body | null;
}

/** Every part of a valid request but the credentials; `stray` allows a body on a route that takes none. */
function validParts(
  { op, f }: Shape,
  role: 'read' | 'write' | 'watched',
  createsWork: boolean,
  stray = false,
): fc.Arbitrary<Parts> {
  const opts: GenOptions = { dropUrlFields: createsWork, cheap: createsWork };
  const pathValues = fc.record(Object.fromEntries(op.path.map((p) => [p.name, pathValue(p, f, role)])));
  /** A parameter as name-value pairs: always there when required, half the time otherwise. */
  const pairs = (p: Param, value: fc.Arbitrary<string>): fc.Arbitrary<[string, string][]> => {
    const pair = value.map((v): [string, string][] => [[p.name, v]]);
    return p.required ? pair : fc.option(pair, { freq: 2 }).map((v) => v ?? []);
  };
  const query = fc.tuple(...op.query.map((p) => pairs(p, validQueryValue(p.schema)))).map((list) => list.flat());
  const headers = fc.tuple(...op.header.map((p) => pairs(p, headerValue(p, createsWork)))).map((list) => list.flat());
  let body: fc.Arbitrary<Body | null> = fc.constant(null);
  const media = op.body?.mediaTypes ?? [];
  if (op.body && media.some((m) => /json/i.test(m))) {
    const json = validArb(op.body.schema, opts).map((v): Body => ({ text: toJsonText(v) }));
    const choices: fc.WeightedArbitrary<Body | null>[] = [{ weight: 8, arbitrary: json }];
    if (!op.body.required) choices.push({ weight: 2, arbitrary: fc.constantFrom<Body | null>(null, { text: '' }) });
    body = fc.oneof(...choices);
  } else if (op.body && media.some((m) => /multipart\/form-data/i.test(m))) {
    const schema = op.body.schema;
    body = validArb(schema, opts).map((v) => multipartBody(v as Record<string, unknown>, schema));
  } else if (op.mutating && stray) {
    // A stray body on a route that takes none: allowed by the document, so any documented answer will do.
    const strays: Body[] = [
      { text: '{}', contentType: 'application/json' },
      { text: 'hello', contentType: 'text/plain' },
      { text: '', contentType: 'application/json' },
    ];
    body = fc.oneof({ weight: 12, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constantFrom(...strays) });
  }
  return fc.record({ pathValues, query, headers, body });
}

function assemble(
  { op }: Shape,
  parts: Parts,
  auth: string | null,
  contentType: string | null,
  noise: [string, string][],
  extra: { intent: Plan['intent']; defect: Defect | null; touchesWatched: boolean; createsWork: boolean },
): Plan {
  const headers: [string, string][] = [];
  // Noise never touches a header the operation declares: that one is valid or the defect.
  const declared = new Set(op.header.map((p) => p.name.toLowerCase()));
  for (const pair of noise) if (!declared.has(pair[0])) headers.push(pair);
  headers.push(...parts.headers);
  if (auth !== null) headers.push(['authorization', auth]);
  if (parts.body && contentType !== null) headers.push(['content-type', contentType]);
  return {
    kind: 'operation',
    op,
    method: op.method,
    path: fillPath(op.template, parts.pathValues),
    query: queryString(parts.query),
    headers,
    body: parts.body,
    ...extra,
  };
}

const namesWatched = (parts: Parts, f: Fixtures) =>
  Object.values(parts.pathValues).some((v) => v === f.watched.accountId || v === f.watched.keyId);

function validRequest(shape: Shape): fc.Arbitrary<Plan> {
  const caller = validCaller(shape);
  const types = fc.constantFrom(...JSON_TYPES, ...(caller.createsWork ? [] : [...JSON_TYPES, ...AMBIGUOUS_TYPES]));
  return fc
    .tuple(validParts(shape, caller.role, caller.createsWork, true), caller.auth, types, noiseHeaders(caller.createsWork), fc.boolean())
    .map(([parts, auth, type, noise, variant]) => {
      let body = parts.body;
      let contentType = body ? (body.contentType ?? type) : null;
      // An empty body where the body is optional goes as JSON or with no content type: both mean none.
      if (body?.text === '' && shape.op.body && variant) contentType = null;
      // A byte order mark before the JSON, which a parser may ignore (RFC 8259 §8.1): not on bodies that create work.
      if (body?.text && !body.contentType && variant && !caller.createsWork) body = { text: `\uFEFF${body.text}` };
      const touchesWatched = namesWatched(parts, shape.f);
      const extra = { intent: 'valid' as const, defect: null, touchesWatched, createsWork: caller.createsWork };
      return assemble(shape, { ...parts, body }, auth, contentType, noise, extra);
    });
}

/** A parameter with a rule to break (a bare `string` has none). */
const constrained = (p: Param) =>
  p.schema.pattern !== undefined ||
  p.schema.enum !== undefined ||
  p.schema.maxLength !== undefined ||
  (p.schema.minLength ?? 0) > 0 ||
  p.schema.type === 'integer' ||
  p.schema.type === 'number' ||
  p.schema.type === 'boolean';

export function defectKinds(op: Operation): DefectKind[] {
  const kinds: DefectKind[] = [];
  if (op.auth !== 'none') kinds.push('auth');
  if (op.path.some(constrained)) kinds.push('path');
  if (op.query.some(constrained)) kinds.push('query');
  if (op.header.some(constrained)) kinds.push('header');
  if (op.body && op.body.mediaTypes.some((m) => /json/i.test(m))) kinds.push('body', 'syntax', 'media-type', 'size');
  return kinds;
}

/** A request broken in exactly one place; everything else as valid as it gets, aimed at the watched account. */
function invalidRequest(shape: Shape, kind: DefectKind): fc.Arbitrary<Plan> {
  const { op, f } = shape;
  const customer = op.auth === 'customer';
  const goodAuth: fc.Arbitrary<string | null> =
    op.auth === 'none' ? fc.constant(null) : authValues(op.auth, f, customer ? f.watched.apiKey : '');
  const auth = kind === 'auth' && op.auth !== 'none' ? badAuth(op.auth, f) : goodAuth;
  const parts = validParts(shape, 'watched', false);
  const jsonType = fc.constantFrom(...JSON_TYPES);
  const noise = noiseHeaders(false);
  const bodySchema = op.body?.schema;

  const defectParts: fc.Arbitrary<{ parts: Parts; contentType: string | null; defect: Defect }> = (() => {
    switch (kind) {
      case 'auth':
        return fc
          .tuple(parts, jsonType)
          .map(([p, t]) => ({ parts: p, contentType: t, defect: { kind, field: 'authorization', note: 'credentials' } }));
      case 'path': {
        const broken = fc.constantFrom(...op.path.filter(constrained)).chain((p) => fc.tuple(fc.constant(p), invalidPathValue(p)));
        return fc
          .tuple(parts, jsonType, broken)
          .map(([p, t, [param, value]]) => ({
            parts: { ...p, pathValues: { ...p.pathValues, [param.name]: value } },
            contentType: t,
            defect: { kind, field: param.name, note: `path ${JSON.stringify(value.slice(0, 40))}` },
          }));
      }
      case 'query':
        return fc
          .tuple(parts, fc.constantFrom(...op.query.filter(constrained)).chain((p) => fc.tuple(fc.constant(p), invalidQueryValue(p.schema))))
          .map(([p, [param, value]]) => ({
            parts: { ...p, query: [...p.query.filter(([k]) => k !== param.name), [param.name, value] satisfies [string, string]] },
            contentType: 'application/json',
            defect: { kind, field: param.name, note: `query ${JSON.stringify(value.slice(0, 40))}` },
          }));
      case 'header': {
        const broken = fc.constantFrom(...op.header.filter(constrained)).chain((p) => fc.tuple(fc.constant(p), invalidHeaderValue(p.schema)));
        const others = (p: Parts, name: string) => p.headers.filter(([k]) => k.toLowerCase() !== name.toLowerCase());
        return fc
          .tuple(parts, jsonType, broken)
          .map(([p, t, [param, value]]) => ({
            parts: { ...p, headers: [...others(p, param.name), [param.name, value] satisfies [string, string]] },
            contentType: t,
            defect: { kind, field: param.name, note: `header ${JSON.stringify(value.slice(0, 40))}` },
          }));
      }
      case 'body': {
        const mutated = invalidArb(bodySchema!, '')
          .filter((m) => m.value !== undefined && !conforms(bodySchema!, m.value))
          .map((m) => ({ body: { text: toJsonText(m.value) } as Body, field: m.field, note: m.note }));
        const missing = fc.constant({ body: null as Body | null, field: '*', note: 'no body at all' });
        const variant = op.body!.required ? fc.oneof({ weight: 12, arbitrary: mutated }, { weight: 1, arbitrary: missing }) : mutated;
        return fc.tuple(parts, jsonType, variant).map(([p, t, m]) => ({
          parts: { ...p, body: m.body },
          contentType: m.body ? t : null,
          defect: { kind, field: m.field, note: m.note },
        }));
      }
      case 'syntax':
        return parts
          .chain((p) => fc.tuple(fc.constant(p), malformed(p.body?.text || '{"fuzz":true}', op.body!.required), jsonType))
          .map(([p, body, t]) => ({
            parts: { ...p, body },
            contentType: t,
            defect: { kind, field: '', note: `malformed ${JSON.stringify((body.text ?? '<bytes>').slice(0, 30))}` },
          }));
      case 'media-type':
        return fc
          .tuple(parts, fc.constantFrom<string | null>(...NOT_JSON_TYPES, null), validArb(bodySchema!))
          .map(([p, t, v]) => {
            const text = toJsonText(v);
            const body: Body = t === null ? { bytes: new TextEncoder().encode(text) } : { text };
            return { parts: { ...p, body }, contentType: t, defect: { kind, field: '', note: `content-type ${t ?? '<none>'}` } };
          });
      case 'size': {
        // Exact sizes around the 64 KiB cap, in characters of 1 to 4 UTF-8 bytes, some sent chunked.
        const schema = bodySchema!.oneOf ? bodySchema!.oneOf[0]! : bodySchema!;
        const cap = MAX_BODY_BYTES;
        const sizes = fc.constantFrom(cap - 1, cap, cap + 1, cap + 2, cap + 1024, 2 * cap, 1024 * 1024);
        const filler = fc.constantFrom('a', '\u00e9', '\u4e2d', '\u{1F600}');
        return fc
          .tuple(parts, jsonType, validArb(schema) as fc.Arbitrary<Record<string, unknown>>, sizes, filler, fc.boolean())
          .map(([p, t, valid, bytes, fill, chunk]) => {
            const body = sized(schema, valid, bytes, fill) ?? { text: 'x'.repeat(cap + 1) };
            const size = utf8(body.text ?? '');
            const chunked = size > cap && chunk;
            const note = `${size} bytes of ${JSON.stringify(fill)}${chunked ? ', chunked' : ''}`;
            return { parts: { ...p, body: { ...body, chunked } }, contentType: t, defect: { kind, field: '*', note } };
          });
      }
    }
  })();

  return fc.tuple(defectParts, auth, noise).map(([{ parts: p, contentType, defect }, credentials, n]) => {
    const withWatchedKey = customer && credentials !== null && credentials.includes(f.watched.apiKey) && kind !== 'auth';
    const extra = { intent: 'invalid' as const, defect, touchesWatched: withWatchedKey || namesWatched(p, f), createsWork: false };
    // A body that needs its own content type (a multipart boundary) keeps it whatever the defect.
    return assemble(shape, p, credentials, p.body?.contentType ?? contentType, n, extra);
  });
}

/** How often each defect is chosen, relative to the others an operation can have: bodies hold most rules. */
const DEFECT_WEIGHTS: Record<DefectKind, number> = { auth: 2, path: 2, query: 3, header: 3, body: 6, syntax: 2, 'media-type': 2, size: 2 };

/** How much of the run an operation gets: more where there are more rules to break. */
export function operationWeight(op: Operation): number {
  return defectKinds(op).reduce((sum, kind) => sum + DEFECT_WEIGHTS[kind], 0) + 2;
}

/** Requests to one operation: valid ones (few that create work) and ones broken in one place. */
export function operationRequests(op: Operation, f: Fixtures): fc.Arbitrary<Plan> {
  const shape = { op, f };
  const kinds = defectKinds(op);
  if (kinds.length === 0) return validRequest(shape);
  const createsWork = op.auth === 'customer' && op.method === 'POST' && op.body !== null;
  const invalid = kinds.reduce((sum, kind) => sum + DEFECT_WEIGHTS[kind], 0) * 10;
  // Valid: 1 in 40 where requests create work (each makes the simulator draw an image), 3 in 10 elsewhere.
  const valid = Math.max(1, Math.round(createsWork ? invalid / 39 : (invalid * 3) / 7));
  return fc.oneof(
    { weight: valid, arbitrary: validRequest(shape) },
    ...kinds.map((kind) => ({ weight: DEFECT_WEIGHTS[kind] * 10, arbitrary: invalidRequest(shape, kind) })),
  );
}

/** A method the document does not list on one of its paths: 405 naming the allowed ones. */
export function undocumentedMethods(ops: Operation[], f: Fixtures): fc.Arbitrary<Plan> | null {
  const byPath = new Map<string, Operation[]>();
  for (const op of ops) byPath.set(op.template, [...(byPath.get(op.template) ?? []), op]);
  const cases = [...byPath.entries()].flatMap(([template, list]) =>
    HTTP_METHODS.map((m) => m.toUpperCase())
      .filter((m) => !list.some((op) => op.method === m))
      .map((method) => ({ template, method, op: list[0]! })),
  );
  if (cases.length === 0) return null;
  return fc.constantFrom(...cases).chain(({ template, method, op }) =>
    fc.record(Object.fromEntries(op.path.map((p) => [p.name, validArb(p.schema) as fc.Arbitrary<string>]))).map(
      (values): Plan => ({
        kind: 'undocumented-method',
        op,
        method,
        path: fillPath(template, values),
        query: '',
        headers: [['authorization', `Bearer ${op.auth === 'internal' ? f.internalToken : f.watched.apiKey}`]],
        body: null,
        intent: 'off-document',
        defect: null,
        touchesWatched: false,
        createsWork: false,
      }),
    ),
  );
}

/** Paths next to the documented ones that name nothing: a trailing slash, an extra segment, another version or case. */
export function unknownPaths(ops: Operation[], f: Fixtures): fc.Arbitrary<Plan> {
  const templates = [...new Set(ops.map((op) => op.template))];
  return fc
    .tuple(
      fc.constantFrom(...templates),
      fc.constantFrom('trailing-slash', 'extra-segment', 'version', 'upper-case', 'double-slash', 'junk'),
      fc.constantFrom('GET', 'POST'),
      fc.stringMatching(/^[a-z]{3,12}$/),
    )
    .map(([template, how, method, junk]): Plan => {
      const op = ops.find((o) => o.template === template)!;
      const concrete = template.replace(/\{[^}]+\}/g, 'zz9');
      const path = {
        'trailing-slash': template.replace(/\/\{[^}]+\}.*$/, '') + '/',
        'extra-segment': `${concrete}/zzfuzz${junk}`,
        // A path with no version (`/healthz`) gets one, or it would be the documented path itself.
        version: /\/v1\//.test(concrete) ? concrete.replace(/\/v1\//, '/v0/') : `/v0${concrete}`,
        'upper-case': concrete.toUpperCase(),
        'double-slash': concrete.replace(/\/([^/]+)$/, '//$1'),
        junk: `${concrete.split('/').slice(0, 3).join('/')}/zzfuzz-${junk}`,
      }[how];
      return {
        kind: 'unknown-path',
        op: null,
        method,
        path,
        query: '',
        headers: [['authorization', `Bearer ${op.auth === 'internal' ? f.internalToken : f.watched.apiKey}`]],
        body: null,
        intent: 'off-document',
        defect: { kind: 'path', field: '', note: how },
        touchesWatched: false,
        createsWork: false,
      };
    });
}

/** The statuses a refused request may have: its defect's, with the body size settling 400 against 413. */
export function expectedStatuses(plan: Plan): number[] | null {
  if (!plan.defect || plan.intent !== 'invalid') return null;
  const size = plan.body?.text !== undefined ? utf8(plan.body.text) : plan.body?.bytes?.length ?? 0;
  if (plan.defect.kind === 'size' || plan.defect.kind === 'body') return size > MAX_BODY_BYTES ? [413] : [400];
  return DEFECT_STATUSES[plan.defect.kind];
}
