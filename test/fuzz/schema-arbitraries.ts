import fc from 'fast-check';
import type { JsonSchema } from './openapi-doc';

/**
 * fast-check arbitraries from JSON Schema: values that conform, and values that break exactly one rule
 * (with the dotted path of the field that breaks it, which a 400 must name). A small validator,
 * `conforms`, is the judge: every "invalid" value is checked against it at the root, so a mutation that
 * happens to stay valid (a near-miss that is another branch's enum value, say) is never sent as invalid.
 *
 * Lengths are JSON Schema's, in code points; zod counts UTF-16 units. Values meant to be invalid by
 * length use characters of the Basic Multilingual Plane only, where both counts agree.
 */

export interface Mutation {
  value: unknown;
  /** Dotted path of the offending field; '' is the value itself (the body root). */
  field: string;
  note: string;
}

/**
 * Deep nesting is sent as text (a JS value 30,000 levels deep would overflow `JSON.stringify` here):
 * the string `__fuzz_deep_<kind><depth>__` stands in for it and `toJsonText` expands it.
 */
const DEEP = /^__fuzz_deep_([ao])(\d+)__$/;
const deepToken = (kind: 'a' | 'o', depth: number) => `__fuzz_deep_${kind}${depth}__`;

/** JSON text of a generated value, deep-nesting tokens expanded. */
export function toJsonText(value: unknown): string {
  const text = JSON.stringify(value) ?? 'null';
  return text.replace(/"__fuzz_deep_([ao])(\d+)__"/g, (_m, kind: string, depth: string) => {
    const n = Number(depth);
    return kind === 'a' ? '['.repeat(n) + ']'.repeat(n) : '{"a":'.repeat(n) + '1' + '}'.repeat(n);
  });
}

const join = (path: string, key: string | number) => (path === '' ? String(key) : `${path}.${key}`);
const codePoints = (s: string) => [...s].length;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function typeMatches(type: string, value: unknown): boolean {
  switch (type) {
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'string':
      return typeof value === 'string';
    case 'boolean':
      return typeof value === 'boolean';
    case 'null':
      return value === null;
    case 'array':
      return Array.isArray(value);
    case 'object':
      return isObject(value);
    default:
      return true;
  }
}

/** Whether `value` conforms to `schema` (the subset of JSON Schema in `JsonSchema`). */
export function conforms(schema: JsonSchema, input: unknown): boolean {
  const deep = typeof input === 'string' ? DEEP.exec(input) : null;
  const value: unknown = deep ? (deep[1] === 'a' ? [[]] : { a: {} }) : input;
  if (schema.oneOf) {
    const d = schema.discriminator?.propertyName;
    if (d !== undefined) {
      if (!isObject(value)) return false;
      const branch = schema.oneOf.find((b) => b.properties?.[d] && conforms(b.properties[d]!, value[d]));
      return branch !== undefined && conforms(branch, value);
    }
    return schema.oneOf.filter((b) => conforms(b, value)).length === 1;
  }
  if (schema.anyOf && !schema.anyOf.some((b) => conforms(b, value))) return false;
  if (schema.allOf && !schema.allOf.every((b) => conforms(b, value))) return false;
  if (schema.enum && !schema.enum.some((e) => deepEqual(e, value))) return false;
  if ('const' in schema && !deepEqual(schema.const, value)) return false;
  if (schema.type !== undefined && ![schema.type].flat().some((t) => typeMatches(t, value))) return false;
  if (typeof value === 'string') {
    const n = codePoints(value);
    if (schema.minLength !== undefined && n < schema.minLength) return false;
    if (schema.maxLength !== undefined && n > schema.maxLength) return false;
    if (schema.pattern !== undefined && !new RegExp(schema.pattern).test(value)) return false;
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) return false;
    if (schema.maximum !== undefined && value > schema.maximum) return false;
    if (schema.exclusiveMinimum !== undefined && value <= schema.exclusiveMinimum) return false;
    if (schema.exclusiveMaximum !== undefined && value >= schema.exclusiveMaximum) return false;
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) return false;
    if (schema.maxItems !== undefined && value.length > schema.maxItems) return false;
    if (schema.items && !value.every((item) => conforms(schema.items!, item))) return false;
  }
  if (isObject(value) && (schema.properties || schema.required || schema.additionalProperties !== undefined)) {
    for (const key of schema.required ?? []) if (!Object.hasOwn(value, key)) return false;
    for (const [key, item] of Object.entries(value)) {
      const declared = schema.properties?.[key];
      if (declared) {
        if (!conforms(declared, item)) return false;
      } else if (schema.additionalProperties === false) {
        return false;
      } else if (typeof schema.additionalProperties === 'object' && !conforms(schema.additionalProperties, item)) {
        return false;
      }
    }
  }
  return true;
}

/** One character of the Basic Multilingual Plane outside the surrogates: accents, CJK, RTL, combining marks. */
const bmpChar = fc.oneof(
  fc.integer({ min: 0xa0, max: 0xd7ff }),
  fc.integer({ min: 0xe000, max: 0xfffd }),
).map((c) => String.fromCharCode(c));

export interface GenOptions {
  /** Leave out optional fields whose name says URL: they would make the Worker fetch the network. */
  dropUrlFields?: boolean;
  /**
   * For bodies that make the simulator draw images: free text from two plain prompts (the simulator
   * caches a drawing per prompt and size) and integers at their minimum (one image, not ten).
   */
  cheap?: boolean;
  /** The longest generated string (a `maxLength` of 32,000 need not be met often to be met). */
  longest?: number;
}

function validString(schema: JsonSchema, opts: GenOptions): fc.Arbitrary<string> {
  const min = schema.minLength ?? 0;
  const max = schema.maxLength ?? min + 200;
  const fits = (s: string) => conforms(schema, s) && s.length <= max;
  if (schema.pattern !== undefined) {
    return fc.stringMatching(new RegExp(schema.pattern)).filter(fits);
  }
  if (opts.cheap) {
    const plain = ['a lighthouse at dusk, drawn by the fuzzer', 'fuzz'].filter(fits);
    if (plain.length > 0) return fc.constantFrom(...plain);
  }
  const span = Math.min(max, min + 40);
  const arbs: fc.WeightedArbitrary<string>[] = [
    { weight: 6, arbitrary: fc.string({ minLength: min, maxLength: span }) },
    { weight: 3, arbitrary: fc.string({ minLength: min, maxLength: span, unit: bmpChar }) },
    { weight: 1, arbitrary: fc.string({ minLength: min, maxLength: Math.min(max, min + 8), unit: 'grapheme' }) },
    { weight: 1, arbitrary: fc.constant('a'.repeat(min)) },
  ];
  if (schema.maxLength !== undefined && max <= (opts.longest ?? 20_000)) {
    arbs.push({ weight: 1, arbitrary: fc.constantFrom('m'.repeat(max), 'é'.repeat(max)) });
  }
  return fc.oneof(...arbs).filter(fits);
}

function numberBounds(schema: JsonSchema, integer: boolean): [number, number] {
  const step = integer ? 1 : Number.EPSILON;
  const min = schema.minimum ?? (schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + step : -1_000_000);
  const max = schema.maximum ?? (schema.exclusiveMaximum !== undefined ? schema.exclusiveMaximum - step : 1_000_000);
  return [min, max];
}

/** Values that conform to `schema`, with its boundaries (min and max lengths, sizes and values) favoured. */
export function validArb(schema: JsonSchema, opts: GenOptions = {}): fc.Arbitrary<unknown> {
  if (schema.oneOf) return fc.oneof(...schema.oneOf.map((b) => validArb(b, opts)));
  if (schema.anyOf) return fc.oneof(...schema.anyOf.map((b) => validArb(b, opts)));
  if (schema.enum) return fc.constantFrom(...schema.enum);
  if ('const' in schema) return fc.constant(schema.const);
  const types = schema.type === undefined ? [] : [schema.type].flat();
  if (types.length === 0) return fc.jsonValue({ maxDepth: 2 });
  return fc.oneof(...types.map((t) => validOfType(t, schema, opts)));
}

function validOfType(type: string, schema: JsonSchema, opts: GenOptions): fc.Arbitrary<unknown> {
  switch (type) {
    case 'string':
      return validString(schema, opts);
    case 'integer': {
      const [min, max] = numberBounds(schema, true);
      if (opts.cheap) return fc.constant(min);
      return fc.oneof(fc.integer({ min, max }), fc.constantFrom(min, max));
    }
    case 'number': {
      const [min, max] = numberBounds(schema, false);
      return fc.oneof(fc.double({ min, max, noNaN: true, noDefaultInfinity: true }), fc.constantFrom(min, max));
    }
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array': {
      const item = schema.items ? validArb(schema.items, opts) : fc.jsonValue({ maxDepth: 1 });
      const min = schema.minItems ?? 0;
      const max = schema.maxItems ?? min + 4;
      return fc.oneof(
        { weight: 4, arbitrary: fc.array(item, { minLength: min, maxLength: Math.min(max, min + 4) }) },
        { weight: 1, arbitrary: fc.array(item, { minLength: max, maxLength: max }) },
      );
    }
    case 'object': {
      const required = new Set(schema.required ?? []);
      const model: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [key, prop] of Object.entries(schema.properties ?? {})) {
        if (opts.dropUrlFields && !required.has(key) && /url/i.test(key)) continue;
        model[key] = validArb(prop, opts);
      }
      return fc.record(model, { requiredKeys: Object.keys(model).filter((k) => required.has(k)) });
    }
    default:
      return fc.jsonValue({ maxDepth: 1 });
  }
}

const WRONG_TYPES: Record<string, unknown[]> = {
  string: [42, -1, 0, true, null, [], {}, ['x'], 1.5],
  integer: ['1', '0x10', 'abc', '', true, null, [], {}, 1.5, 0.1, -0.5],
  number: ['1', '0x10', 'NaN', true, null, [], {}],
  boolean: ['true', 'false', 1, 0, null, [], {}],
  array: ['x', '', 1, null, true, {}],
  object: ['x', '', 1, 0, null, true, []],
  null: [0, '', 'null', false, [], {}],
};

/** Near misses of an enum value: case, whitespace, a NUL, a look-alike letter, a neighbour. */
function nearMisses(values: unknown[]): string[] {
  const out = new Set<string>();
  for (const v of values) {
    if (typeof v !== 'string') continue;
    out.add(v.toUpperCase());
    out.add(v.toLowerCase());
    out.add(`${v} `);
    out.add(` ${v}`);
    out.add(`${v}\u0000`);
    out.add(v.replace(/[a-z]/, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0))); // fullwidth
    out.add(v.replace(/o/, '\u043e')); // Cyrillic o
    out.add(`${v}x`);
    out.add(v.slice(0, -1));
  }
  out.add('');
  return [...out].filter((s) => !values.includes(s));
}

/** Strings in odd alphabets and lengths, for rules with a pattern. */
const ODD_STRINGS = [
  '',
  ' ',
  '../../../../etc/passwd',
  '%00',
  '\u0000',
  'täsk_ünïcode',
  '😀😀😀',
  '\u202e',
  'a'.repeat(300),
  '<script>',
  "' OR 1=1 --",
  '\\',
  'null',
];

function invalidString(schema: JsonSchema, path: string): fc.Arbitrary<Mutation> {
  const cases: fc.Arbitrary<Mutation>[] = [
    fc.constantFrom(...WRONG_TYPES.string!).map((value) => ({ value, field: path, note: 'wrong type' })),
  ];
  const min = schema.minLength;
  if (min !== undefined && min >= 1) {
    cases.push(
      fc.constantFrom('', 'a'.repeat(min - 1), 'é'.repeat(min - 1)).map((value) => ({ value, field: path, note: `minLength ${min} - 1` })),
    );
  }
  const max = schema.maxLength;
  if (max !== undefined) {
    cases.push(
      fc
        .tuple(fc.constantFrom('a', 'é', '中'), fc.constantFrom(1, 2, 100))
        .map(([c, over]) => ({ value: c.repeat(max + over), field: path, note: `maxLength ${max} + ${over}` })),
    );
  }
  if (schema.enum) {
    cases.push(fc.constantFrom(...nearMisses(schema.enum)).map((value) => ({ value, field: path, note: 'enum near-miss' })));
  }
  if (schema.pattern !== undefined) {
    const re = new RegExp(schema.pattern);
    cases.push(
      fc
        .oneof(fc.constantFrom(...ODD_STRINGS), fc.string({ maxLength: 40 }), fc.string({ maxLength: 40, unit: bmpChar }))
        .filter((s) => !re.test(s))
        .map((value) => ({ value, field: path, note: 'pattern' })),
    );
  }
  return fc.oneof(...cases);
}

function invalidNumber(schema: JsonSchema, path: string, integer: boolean): fc.Arbitrary<Mutation> {
  const bad: unknown[] = [...WRONG_TYPES[integer ? 'integer' : 'number']!];
  if (schema.minimum !== undefined) bad.push(schema.minimum - 1, -1e308, Number.MIN_SAFE_INTEGER - 2);
  if (schema.exclusiveMinimum !== undefined) bad.push(schema.exclusiveMinimum, schema.exclusiveMinimum - 1, -1e308);
  if (schema.maximum !== undefined) bad.push(schema.maximum + 1, 1e308, 2 ** 53 + 2, 1e21);
  if (schema.exclusiveMaximum !== undefined) bad.push(schema.exclusiveMaximum, 1e308);
  return fc.constantFrom(...bad).map((value) => ({
    value,
    field: path,
    note: typeof value === 'number' ? `out of range: ${value}` : 'wrong type',
  }));
}

function invalidArray(schema: JsonSchema, path: string, opts: GenOptions): fc.Arbitrary<Mutation> {
  const item = schema.items ? validArb(schema.items, opts) : fc.constant('x');
  const cases: fc.Arbitrary<Mutation>[] = [
    fc.constantFrom(...WRONG_TYPES.array!).map((value) => ({ value, field: path, note: 'wrong type' })),
  ];
  if (schema.minItems !== undefined && schema.minItems >= 1) {
    const note = `minItems ${schema.minItems} - 1`;
    cases.push(fc.array(item, { maxLength: schema.minItems - 1 }).map((value) => ({ value, field: path, note })));
  }
  if (schema.maxItems !== undefined) {
    const n = schema.maxItems + 1;
    const note = `maxItems ${schema.maxItems} + 1`;
    cases.push(fc.array(item, { minLength: n, maxLength: n }).map((value) => ({ value, field: path, note })));
  }
  if (schema.items) {
    const min = Math.max(1, schema.minItems ?? 1);
    cases.push(
      fc
        .tuple(fc.array(item, { minLength: min, maxLength: min }), fc.nat(), invalidArb(schema.items, '', opts))
        .map(([items, at, bad]) => {
          const i = at % items.length;
          const value = [...items];
          value[i] = bad.value;
          return { value, field: join(path, i), note: `item: ${bad.note}` };
        }),
    );
  }
  return fc.oneof(...cases);
}

/** Unknown keys: plain, prototype-polluting, invisible, near a known key, very long. */
function extraKeys(schema: JsonSchema, siblings: string[]): string[] {
  const known = Object.keys(schema.properties ?? {});
  const keys = new Set(['extra', '__proto__', 'constructor', '', ' ', '\u0000', 'prömpt', 'k'.repeat(300), ...siblings]);
  for (const k of known) {
    keys.add(k.toUpperCase());
    keys.add(`${k} `);
    keys.add(k.replace(/_/g, '-'));
  }
  return [...keys].filter((k) => !known.includes(k));
}

/** Adds an own enumerable property, even `__proto__`. */
function withKey(obj: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  const copy = { ...obj };
  Object.defineProperty(copy, key, { value, enumerable: true, writable: true, configurable: true });
  return copy;
}

function invalidObject(schema: JsonSchema, path: string, opts: GenOptions, siblings: string[]): fc.Arbitrary<Mutation> {
  const base = validArb(schema, opts) as fc.Arbitrary<Record<string, unknown>>;
  const props = Object.entries(schema.properties ?? {});
  const cases: fc.WeightedArbitrary<Mutation>[] = [
    { weight: 1, arbitrary: fc.constantFrom(...WRONG_TYPES.object!).map((value) => ({ value, field: path, note: 'wrong type' })) },
  ];
  const required = schema.required ?? [];
  if (required.length > 0) {
    cases.push({
      weight: 2,
      arbitrary: fc.tuple(base, fc.constantFrom(...required)).map(([obj, key]) => {
        const value = { ...obj };
        delete value[key];
        return { value, field: join(path, key), note: 'required field missing' };
      }),
    });
  }
  if (props.length > 0) {
    cases.push({
      weight: 6,
      arbitrary: fc
        .constantFrom(...props)
        .chain(([key, prop]) => fc.tuple(base, fc.constant(key), invalidArb(prop, join(path, key), opts)))
        .map(([obj, key, bad]) => ({ value: withKey(obj, key, bad.value), field: bad.field, note: `${key}: ${bad.note}` })),
    });
  }
  if (schema.additionalProperties === false) {
    cases.push({
      weight: 2,
      arbitrary: fc
        .tuple(base, fc.constantFrom(...extraKeys(schema, siblings)), fc.jsonValue({ maxDepth: 2 }))
        .map(([obj, key, extra]) => ({ value: withKey(obj, key, extra), field: join(path, key), note: 'unknown field' })),
    });
    cases.push({
      weight: 1,
      arbitrary: fc
        .tuple(base, fc.constantFrom<'a' | 'o'>('a', 'o'), fc.constantFrom(64, 1_000, 10_000, 30_000, 40_000))
        .map(([obj, kind, depth]) => ({
          value: withKey(obj, 'nested', deepToken(kind, depth)),
          field: join(path, 'nested'),
          note: `unknown field nested ${depth} deep`,
        })),
    });
  }
  return fc.oneof(...cases);
}

/** Values that break `schema` in one place, with that place. Filter at the root with `conforms`. */
export function invalidArb(schema: JsonSchema, path: string, opts: GenOptions = {}, siblings: string[] = []): fc.Arbitrary<Mutation> {
  if (schema.oneOf) {
    const d = schema.discriminator?.propertyName;
    const allKeys = [...new Set(schema.oneOf.flatMap((b) => Object.keys(b.properties ?? {})))];
    const cases: fc.Arbitrary<Mutation>[] = schema.oneOf.map((b) =>
      invalidArb(b, path, opts, allKeys.filter((k) => !(k in (b.properties ?? {})))),
    );
    cases.push(fc.constantFrom(...WRONG_TYPES.object!).map((value) => ({ value, field: path, note: 'wrong type' })));
    if (d !== undefined) {
      const values = schema.oneOf.flatMap((b) => b.properties?.[d]?.enum ?? []);
      cases.push(
        fc
          .tuple(
            validArb(schema, opts) as fc.Arbitrary<Record<string, unknown>>,
            fc.constantFrom<unknown>(...nearMisses(values), 1, null, [], undefined),
          )
          .map(([obj, v]) => {
            const value = { ...obj };
            if (v === undefined) delete value[d];
            else value[d] = v;
            return { value, field: join(path, d), note: v === undefined ? 'discriminator missing' : 'discriminator near-miss' };
          }),
      );
    }
    return fc.oneof(...cases);
  }
  if (schema.enum && schema.type === undefined) {
    return fc.constantFrom(...nearMisses(schema.enum), 1, null).map((value) => ({ value, field: path, note: 'enum near-miss' }));
  }
  const types = schema.type === undefined ? [] : [schema.type].flat().filter((t) => t !== 'null');
  const arbs = types.map((t): fc.Arbitrary<Mutation> => {
    switch (t) {
      case 'string':
        return invalidString(schema, path);
      case 'integer':
      case 'number':
        return invalidNumber(schema, path, t === 'integer');
      case 'boolean':
        return fc.constantFrom(...WRONG_TYPES.boolean!).map((value) => ({ value, field: path, note: 'wrong type' }));
      case 'array':
        return invalidArray(schema, path, opts);
      case 'object':
        return invalidObject(schema, path, opts, siblings);
      default:
        return fc.constant({ value: undefined, field: path, note: 'no rule' });
    }
  });
  if (arbs.length === 0) return fc.constant({ value: undefined, field: path, note: 'no rule' });
  return fc.oneof(...arbs);
}

/** A query-string value that conforms, as the client writes it: integers in decimal. */
export function validQueryValue(schema: JsonSchema): fc.Arbitrary<string> {
  return validArb(schema).map((v) => String(v));
}

/** Whether a query-string value is what the schema describes (an integer in decimal for `integer`). */
export function queryConforms(schema: JsonSchema, text: string): boolean {
  const types = schema.type === undefined ? [] : [schema.type].flat();
  if (types.includes('integer') || types.includes('number')) {
    if (!/^-?[0-9]+$/.test(text) || /^-?0[0-9]/.test(text)) return false;
    return conforms(schema, Number(text));
  }
  if (types.includes('boolean')) return text === 'true' || text === 'false';
  return conforms(schema, text);
}

/** Query-string values that break the parameter's rule. */
export function invalidQueryValue(schema: JsonSchema): fc.Arbitrary<string> {
  const candidates = ['', 'abc', '0x10', '1e1', ' 16', '16 ', '16.0', '1.5', '-1', '0', '99999999999999999999'];
  candidates.push('１６', 'NaN', 'null', '[]', '%', '😀');
  if (schema.minimum !== undefined) candidates.push(String(schema.minimum - 1));
  if (schema.maximum !== undefined) candidates.push(String(schema.maximum + 1), String(schema.maximum * 1000));
  if (schema.enum) candidates.push(...nearMisses(schema.enum));
  if (schema.maxLength !== undefined) candidates.push('a'.repeat(schema.maxLength + 1));
  candidates.push(...ODD_STRINGS);
  const bad = [...new Set(candidates)].filter((s) => !queryConforms(schema, s));
  return fc.oneof(
    fc.constantFrom(...bad),
    fc.string({ maxLength: 30, unit: bmpChar }).filter((s) => !queryConforms(schema, s)),
  );
}

/** HTTP trims a header value's outer whitespace; what the server sees. */
export const headerAsSeen = (value: string) => value.replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, '');

/**
 * Header values that break the parameter's rule once trimmed. Mostly ASCII (controls, tabs, lengths):
 * workerd sends a non-ASCII value as UTF-8 and prints a warning for each to stderr, so those are rare.
 */
export function invalidHeaderValue(schema: JsonSchema): fc.Arbitrary<string> {
  const ascii = fc.integer({ min: 0x01, max: 0x7f }).filter((c) => c !== 0x0a && c !== 0x0d).map((c) => String.fromCharCode(c));
  const candidates = ['', 'a\tb', '\u007f', 'x\u0001y', ' \t '];
  if (schema.maxLength !== undefined) candidates.push('k'.repeat(schema.maxLength + 1), 'k'.repeat(schema.maxLength + 100));
  if (schema.minLength !== undefined && schema.minLength > 1) candidates.push('k'.repeat(schema.minLength - 1));
  const bad = candidates.filter((s) => !conforms(schema, headerAsSeen(s)));
  const nonAscii = ['caf\u00e9', 'key-\u00ff', '\u20ac-euro'].filter((s) => !conforms(schema, headerAsSeen(s)));
  const arbs: fc.WeightedArbitrary<string>[] = [
    { weight: 6, arbitrary: fc.string({ maxLength: 40, unit: ascii }).filter((s) => !conforms(schema, headerAsSeen(s))) },
  ];
  if (bad.length > 0) arbs.push({ weight: 6, arbitrary: fc.constantFrom(...bad) });
  if (nonAscii.length > 0) arbs.push({ weight: 1, arbitrary: fc.constantFrom(...nonAscii) });
  return fc.oneof(...arbs);
}
