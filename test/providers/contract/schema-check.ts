/**
 * Checks a value against the JSON-Schema subset the provider fixtures use (test/fixtures/providers):
 * `type` (one or a list, `null` included), `enum`, `const`, `minimum`/`maximum`, `minLength`/`maxLength`,
 * `pattern`, `format: uri`, `required`, `properties`, `additionalProperties`, `minProperties`/
 * `maxProperties`, `items`, `minItems`/`maxItems`, `oneOf`/`anyOf` and `$ref` (`#/errors/X`,
 * `#/definitions/X`, resolved in the fixture). Keys starting with `x-` are notes and are ignored,
 * except `x-unlisted-but-seen`, whose keys are fields the provider is known to send outside its schema.
 *
 * Hand-written rather than a library (`@cfworker/json-schema` runs in workerd) for one deliberate
 * difference: here an object that lists `properties` is closed unless it says `additionalProperties:
 * true`. In JSON Schema it is open, and then a misspelt field name in a request we build, or an
 * invented field in a simulator answer, would pass every check. The subset is small (about a hundred
 * lines) and a library would still need this rule patched in.
 */

export type Schema = { [key: string]: unknown };

export interface CheckOptions {
  /** The fixture, for `$ref`s. */
  root: Schema;
  /** Fields allowed although the schema does not list them (dotted paths, `[]` for array items). */
  allowedExtras?: readonly string[];
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function isUrl(value: string): boolean {
  try {
    new URL(value);
    return true;
  } catch {
    return false;
  }
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function typeMatches(value: unknown, type: string): boolean {
  const actual = typeOf(value);
  return actual === type || (type === 'number' && actual === 'integer');
}

/** Resolves a `$ref` of the fixture, e.g. `#/errors/ErrorResponse`. */
export function resolveRef(schema: Schema, root: Schema): Schema {
  let current = schema;
  for (let depth = 0; typeof current.$ref === 'string' && depth < 10; depth++) {
    const path = current.$ref.replace(/^#\//, '').split('/');
    const target = path.reduce<unknown>((node, key) => (isObject(node) ? node[key] : undefined), root);
    if (!isObject(target)) throw new Error(`unresolved $ref ${current.$ref}`);
    current = target;
  }
  return current;
}

/**
 * The problems of `value` against `schema`, each as `path: what`; empty when it fits.
 * `path` names where the value sits (`body.data[0].url`).
 */
export function check(value: unknown, schemaIn: Schema, options: CheckOptions, path = 'body'): string[] {
  const schema = resolveRef(schemaIn, options.root);
  const problems: string[] = [];
  const alternatives = (schema.oneOf ?? schema.anyOf) as Schema[] | undefined;
  if (alternatives) {
    const fits = alternatives.filter((alternative) => check(value, alternative, options, path).length === 0).length;
    const wanted = schema.oneOf ? fits === 1 : fits >= 1;
    if (!wanted) problems.push(`${path}: fits ${fits} of the ${schema.oneOf ? 'oneOf' : 'anyOf'} alternatives`);
  }
  if (schema.type !== undefined) {
    const types = [schema.type].flat() as string[];
    if (!types.some((type) => typeMatches(value, type))) return [...problems, `${path}: is ${typeOf(value)}, not ${types.join(' | ')}`];
  }
  if (Array.isArray(schema.enum) && !schema.enum.includes(value)) problems.push(`${path}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);
  if ('const' in schema && schema.const !== value) problems.push(`${path}: is not ${JSON.stringify(schema.const)}`);
  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && value < schema.minimum) problems.push(`${path}: ${value} < minimum ${schema.minimum}`);
    if (typeof schema.maximum === 'number' && value > schema.maximum) problems.push(`${path}: ${value} > maximum ${schema.maximum}`);
  }
  if (typeof value === 'string') {
    if (typeof schema.minLength === 'number' && value.length < schema.minLength) problems.push(`${path}: shorter than ${schema.minLength}`);
    if (typeof schema.maxLength === 'number' && value.length > schema.maxLength) problems.push(`${path}: longer than ${schema.maxLength}`);
    if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern).test(value)) problems.push(`${path}: does not match ${schema.pattern}`);
    if (schema.format === 'uri' && !isUrl(value)) problems.push(`${path}: is not a URI`);
  }
  if (Array.isArray(value)) {
    if (typeof schema.minItems === 'number' && value.length < schema.minItems) problems.push(`${path}: fewer than ${schema.minItems} items`);
    if (typeof schema.maxItems === 'number' && value.length > schema.maxItems) problems.push(`${path}: more than ${schema.maxItems} items`);
    if (isObject(schema.items)) value.forEach((item, i) => problems.push(...check(item, schema.items as Schema, options, `${path}[${i}]`)));
  }
  if (isObject(value)) problems.push(...checkObject(value, schema, options, path));
  return problems;
}

function checkObject(value: Record<string, unknown>, schema: Schema, options: CheckOptions, path: string): string[] {
  const problems: string[] = [];
  const keys = Object.keys(value);
  if (typeof schema.minProperties === 'number' && keys.length < schema.minProperties) problems.push(`${path}: fewer than ${schema.minProperties} fields`);
  if (typeof schema.maxProperties === 'number' && keys.length > schema.maxProperties) problems.push(`${path}: more than ${schema.maxProperties} fields`);
  for (const name of (schema.required as string[] | undefined) ?? []) {
    if (!(name in value)) problems.push(`${path}.${name}: is required`);
  }
  if (!isObject(schema.properties)) return problems;
  const properties = schema.properties as Record<string, Schema>;
  const seen = isObject(schema['x-unlisted-but-seen']) ? Object.keys(schema['x-unlisted-but-seen']) : [];
  // The field's path from the top of the body: `POST /x → 200 body.data[3]` is `data[]`.
  const generic = path.replace(/\[\d+\]/g, '[]').replace(/^.*?\b(?:body|form)\.?/, '');
  for (const [name, field] of Object.entries(value)) {
    const property = properties[name];
    if (property) {
      problems.push(...check(field, property, options, `${path}.${name}`));
      continue;
    }
    const dotted = generic ? `${generic}.${name}` : name;
    const allowed = schema.additionalProperties === true || seen.includes(name) || options.allowedExtras?.includes(dotted);
    if (!allowed) problems.push(`${path}.${name}: is not in the description`);
  }
  return problems;
}
