import fc from 'fast-check';
import type { JsonSchema, Param } from './openapi-doc';
import { conforms, headerAsSeen, invalidArb, toJsonText, validArb } from './schema-arbitraries';

/**
 * The pieces requests are made of: credentials good and bad, path values from the fixtures, header
 * noise, malformed JSON, bodies of an exact size, multipart forms.
 */

export const MAX_BODY_BYTES = 64 * 1024;

export interface Body {
  /** UTF-8 text, or raw bytes (invalid UTF-8, or a body that must go without a content type). */
  text?: string;
  bytes?: Uint8Array;
  /** Sent as a stream with `transfer-encoding: chunked` and no `content-length`. */
  chunked?: boolean;
  /** The content type this body must go with (a multipart boundary). */
  contentType?: string;
}

/** Values known only while the run goes on, resolved just before a request is sent. */
export const Placeholders = {
  spareKey: '@@spare-key@@',
  workerTask: '@@worker-task@@',
} as const;

export interface Fixtures {
  watched: { accountId: string; apiKey: string; keyId: string };
  worker: { accountId: string; apiKey: string };
  revokedKey: string;
  internalToken: string;
  /** Accounts that valid writes (top-ups, keys, secrets) may change. */
  scratchAccounts: string[];
  /** The watched account's finished tasks and their result files. */
  taskIds: string[];
  fileIds: string[];
  modelIds: string[];
}

export const JSON_TYPES = ['application/json', 'application/json; charset=utf-8', 'application/json;charset=UTF-8', 'APPLICATION/JSON'];
/** Content types the server may take as JSON or not; sent only where either answer is fair. */
export const AMBIGUOUS_TYPES = [
  'application/vnd.api+json',
  'application/json ; charset=utf-8',
  'application/json;;',
  'application/json; charset=utf-16',
];
export const NOT_JSON_TYPES = [
  'text/plain',
  'text/json',
  'application/jsonx',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=fuzz',
  'application/xml',
  'application/octet-stream',
  'json',
  'application/',
  '*/*',
  'image/png',
];
export const PREFER = [
  ...['wait=1', 'wait=0', 'wait=60', 'wait=61', 'wait=99999999', 'wait=-1', 'wait=abc', 'wait="5"'],
  ...['respond-async', 'handling=strict', 'return=minimal', ''],
];
export const PREFER_WHEN_WORKING = ['wait=1', 'wait=0', 'wait=abc', 'respond-async', 'handling=lenient'];

const BASE62 = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
const base62 = fc.string({ unit: fc.constantFrom(...BASE62), minLength: 32, maxLength: 48 });

export function authValues(kind: 'customer' | 'internal', f: Fixtures, key: string): fc.Arbitrary<string> {
  const secret = kind === 'customer' ? key : f.internalToken;
  return fc.constantFrom(`Bearer ${secret}`, `bearer ${secret}`, `BEARER ${secret}`, `Bearer  ${secret}`, `Bearer ${secret}\t`);
}

/** Credentials that must be refused with 401 (`null`: no Authorization header). */
export function badAuth(kind: 'customer' | 'internal', f: Fixtures): fc.Arbitrary<string | null> {
  const secret = kind === 'customer' ? f.watched.apiKey : f.internalToken;
  const wrong = kind === 'customer' ? f.internalToken : f.watched.apiKey;
  const fixed = [
    null,
    '',
    'Bearer',
    'Bearer ',
    'Basic dXNlcjpwYXNz',
    `Token ${secret}`,
    secret,
    `Bearer ${secret}x`,
    `Bearer ${secret.slice(0, -1)}`,
    `Bearer ${secret.toUpperCase() === secret ? secret.toLowerCase() : secret.toUpperCase()}`,
    `Bearer ${secret} extra`,
    `Bearer ${wrong}`,
    `Bearer ${'a'.repeat(10_000)}`,
  ];
  if (kind === 'customer') fixed.push(`Bearer ${f.revokedKey}`, 'Bearer aio_short', `Bearer aio_${'-'.repeat(32)}`);
  return fc.oneof(
    { weight: 150, arbitrary: fc.constantFrom(...fixed) },
    { weight: 50, arbitrary: base62.map((s) => (kind === 'customer' ? `Bearer aio_${s}` : `Bearer ${s}`)) },
    // Non-ASCII goes out as UTF-8, and workerd prints a warning to stderr for each: a few per run.
    { weight: 1, arbitrary: fc.constant(`Bearer ${kind === 'customer' ? 'aio_' : ''}${'\u00e9'.repeat(36)}`) },
  );
}

/** Valid values of a path parameter, from the fixtures where the name says what it is. */
export function pathValue(p: Param, f: Fixtures, role: 'read' | 'write' | 'watched'): fc.Arbitrary<string> {
  const random = validArb(p.schema) as fc.Arbitrary<string>;
  const pick = (values: string[]) => (values.length > 0 ? fc.constantFrom(...values) : random);
  switch (p.name) {
    case 'account_id': {
      // A new account is a new Durable Object (~100 ms to start): writes go to a few scratch accounts.
      const scratch = fc.constantFrom(...f.scratchAccounts);
      if (role === 'write') return scratch;
      const watched = fc.constant(f.watched.accountId);
      if (role === 'watched') return fc.oneof({ weight: 4, arbitrary: watched }, { weight: 1, arbitrary: random });
      return fc.oneof({ weight: 2, arbitrary: watched }, { weight: 2, arbitrary: scratch }, { weight: 1, arbitrary: random });
    }
    case 'key_id':
      if (role === 'write') return fc.oneof(fc.constant(Placeholders.spareKey), random);
      if (role === 'watched') return fc.oneof(fc.constant(f.watched.keyId), random);
      return random;
    case 'task_id':
      if (role === 'write') {
        const worker = fc.constant(Placeholders.workerTask);
        return fc.oneof({ weight: 3, arbitrary: worker }, { weight: 1, arbitrary: pick(f.taskIds) }, { weight: 1, arbitrary: random });
      }
      return fc.oneof({ weight: 2, arbitrary: pick(f.taskIds) }, { weight: 1, arbitrary: random });
    case 'file_id':
      return fc.oneof(pick(f.fileIds), random);
    case 'model_id':
      return fc.oneof({ weight: 3, arbitrary: pick(f.modelIds) }, { weight: 1, arbitrary: random });
    default:
      return random;
  }
}

/** Path values that break the parameter's rule: odd lengths (0, 1, length ± 1, 600), odd alphabets. */
export function invalidPathValue(p: Param): fc.Arbitrary<string> {
  const s = p.schema;
  const fixed = ['x', 'a'.repeat(600), '%00', '..%2F..%2Fetc', 'täsk', '😀', '\u202e', 'null', ' ', "'", '<>', '\\'];
  if (s.maxLength !== undefined) fixed.push('a'.repeat(s.maxLength + 1), 'a'.repeat(s.maxLength - 1));
  return fc
    .oneof(
      fc.constantFrom(...fixed),
      invalidArb(s, p.name).map((m) => (typeof m.value === 'string' ? m.value : JSON.stringify(m.value) ?? 'undefined')),
      fc.string({ maxLength: 70 }),
    )
    .filter((v) => v !== '' && !conforms(s, v));
}

export function fillPath(template: string, values: Record<string, string>): string {
  return template.replace(/\{([^}]+)\}/g, (_m, name: string) => {
    const v = values[name] ?? '';
    return v.startsWith('@@') ? v : encodeURIComponent(v);
  });
}

export function queryString(pairs: [string, string][]): string {
  if (pairs.length === 0) return '';
  return `?${pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')}`;
}

/** Noise that a correct server answers the same with or without: request ids, preferences, Accept. */
export function noiseHeaders(createsWork: boolean): fc.Arbitrary<[string, string][]> {
  const requestId = fc.oneof(
    fc.stringMatching(/^[\w=-]{1,128}$/),
    fc.constantFrom('a'.repeat(129), 'has space', 'dots.not.allowed', '<script>', ''),
  );
  return fc
    .record(
      {
        'x-request-id': requestId,
        prefer: fc.constantFrom(...(createsWork ? PREFER_WHEN_WORKING : PREFER)),
        accept: fc.constantFrom('*/*', 'text/html', 'application/xml', 'application/json'),
        'idempotency-key': fc.oneof(fc.stringMatching(/^[\x21-\x7e]{1,40}$/), fc.constantFrom('', 'k'.repeat(300))),
      },
      { requiredKeys: [] },
    )
    .map((h) => Object.entries(h));
}

/** JSON text that the server must refuse as JSON, made from a valid body. */
export function malformed(validText: string, bodyRequired: boolean): fc.Arbitrary<Body> {
  const variants: fc.Arbitrary<Body>[] = [
    fc.nat().map((n) => ({ text: validText.slice(0, 1 + (n % Math.max(1, validText.length - 1))) })),
    fc.constantFrom(
      `${validText}x`,
      `${validText}${validText}`,
      validText.replace(/"/g, "'"),
      validText.replace(/^\{/, '{,').replace(/\}$/, ',}'),
      validText.replace(/"([^"]+)":/, '$1:'),
      `/* comment */${validText}`,
      validText.replace(/\}$/, ',"n":NaN}'),
      validText.replace(/"([^"]*)"/, '"$1\u0000"'),
      validText.replace(/"([^"]*)"/, '"$1\n"'),
      '{',
      '}',
      'undefined',
      '  \n\t ',
      '{"a":1}}',
      '[',
      '"',
      "{'model': 'x'}",
    ).map((text) => ({ text })),
    fc.constant({ bytes: new Uint8Array([0xff, 0xfe, ...new TextEncoder().encode(validText)]) }),
  ];
  if (bodyRequired) variants.push(fc.constant({ text: '' }));
  return fc.oneof(...variants).filter((b) => {
    if (b.bytes) return true;
    try {
      JSON.parse((b.text ?? '').replace(/^\uFEFF/, ''));
      return false;
    } catch {
      return true;
    }
  });
}

export const utf8 = (s: string) => new TextEncoder().encode(s).length;

/**
 * A body of exactly `bytes` bytes whose content is also invalid when it fits the cap (an over-long
 * string field, or an unknown one), so every size is refused: 413 over the cap, 400 at or under it.
 */
export function sized(schema: JsonSchema, valid: Record<string, unknown>, bytes: number, filler: string): Body | null {
  const props = schema.properties ?? {};
  const freeText = ([, p]: [string, JsonSchema]) =>
    [p.type].flat().includes('string') && !p.enum && !p.pattern && (p.maxLength ?? Infinity) < MAX_BODY_BYTES / 4;
  const target = Object.entries(props).find(freeText)?.[0] ?? (schema.additionalProperties === false ? 'padding' : null);
  if (target === null && bytes <= MAX_BODY_BYTES) return null;
  const key = target ?? 'padding';
  const empty = toJsonText({ ...valid, [key]: '' });
  let room = bytes - utf8(empty);
  if (room < 0) return null;
  const w = utf8(filler);
  const wide = Math.floor(room / w / 2);
  room -= wide * w;
  const text = toJsonText({ ...valid, [key]: filler.repeat(wide) + 'a'.repeat(room) });
  return utf8(text) === bytes ? { text } : null;
}

/**
 * A valid header value. `Prefer` is known by name: any preference is valid (unknown ones are ignored),
 * but `wait=N` holds the answer up to N seconds, so requests that create work wait 1 s at most.
 */
export function headerValue(p: Param, createsWork: boolean): fc.Arbitrary<string> {
  if (/^prefer$/i.test(p.name)) return fc.constantFrom(...(createsWork ? PREFER_WHEN_WORKING : PREFER));
  // HTTP strips a value's outer whitespace (RFC 9110 §5.5): ' ' matches `^[\x20-\x7E]{1,255}$` but arrives empty.
  const schemaValid = validArb(p.schema)
    .map((v) => headerAsSeen(String(v)))
    .filter((v) => conforms(p.schema, v));
  return p.schema.example === undefined ? schemaValid : fc.oneof(schemaValid, fc.constant(String(p.schema.example)));
}

/** A 1×1 PNG, for the file fields of multipart forms. */
const PNG = Uint8Array.from(
  atob('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=='),
  (c) => c.charCodeAt(0),
);
const BOUNDARY = 'fuzz-boundary-7d1f9a';

const isBinary = (s: JsonSchema | undefined) => s?.format === 'binary' || s?.items?.format === 'binary';

/** A multipart form of a valid value: scalars as text fields, arrays as repeated fields, binary fields as a PNG file. */
export function multipartBody(value: Record<string, unknown>, schema: JsonSchema): Body {
  const enc = new TextEncoder();
  const chunks: Uint8Array[] = [];
  for (const [name, v] of Object.entries(value)) {
    const prop = schema.properties?.[name];
    for (const item of Array.isArray(v) ? v : [v]) {
      const head = `--${BOUNDARY}\r\ncontent-disposition: form-data; name="${name}"`;
      if (isBinary(prop)) {
        chunks.push(enc.encode(`${head}; filename="fuzz.png"\r\ncontent-type: image/png\r\n\r\n`), PNG, enc.encode('\r\n'));
      } else {
        chunks.push(enc.encode(`${head}\r\n\r\n${typeof item === 'string' ? item : JSON.stringify(item)}\r\n`));
      }
    }
  }
  chunks.push(enc.encode(`--${BOUNDARY}--\r\n`));
  const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.length;
  }
  return { bytes, contentType: `multipart/form-data; boundary=${BOUNDARY}` };
}
