import { z } from '@hono/zod-openapi';
import type { ModelEntry } from '../../../src/catalog/types';

/**
 * Every option of a catalog model worth sending to its providers, read from the model's own schema
 * so a new option is covered without touching the tests: each enum value (all combinations of the
 * model's enums when there are at most `MAX_PRODUCT`, else each value once), integers at both bounds,
 * text at its longest, reference images none / one / the most, and the enums again with the most
 * reference images.
 */
const MAX_PRODUCT = 256;

interface Field {
  type?: string;
  enum?: string[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  format?: string;
}

export interface CatalogCase {
  label: string;
  body: Record<string, unknown>;
}

/** A reference image URL; `referenceUrl(i)` for the i-th of a request. */
export const referenceUrl = (i: number): string => `https://images.example.com/contract-${i + 1}.png`;

const references = (count: number): string[] => Array.from({ length: count }, (_, i) => referenceUrl(i));

function product(fields: [string, string[]][]): Record<string, string>[] {
  return fields.reduce<Record<string, string>[]>(
    (combos, [name, values]) => combos.flatMap((combo) => values.map((value) => ({ ...combo, [name]: value }))),
    [{}],
  );
}

const describe = (fields: Record<string, unknown>): string =>
  Object.entries(fields)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? `${v.length} URLs` : typeof v === 'string' && v.length > 40 ? `${v.length} chars` : String(v)}`)
    .join(' ') || 'defaults';

/** The request bodies to build for `model` (before its schema applies defaults). */
export function catalogCases(model: ModelEntry): CatalogCase[] {
  const schema = z.toJSONSchema(model.schema, { io: 'input', unrepresentable: 'any' }) as { properties: Record<string, Field> };
  const fields = Object.entries(schema.properties).filter(([name]) => name !== 'model' && name !== 'callback_url');
  const enums = fields.filter(([, f]) => f.enum).map(([name, f]) => [name, f.enum!] as [string, string[]]);
  const combos = enums.reduce((n, [, values]) => n * values.length, 1);
  const enumCases = combos <= MAX_PRODUCT ? product(enums) : enums.flatMap(([name, values]) => values.map((value) => ({ [name]: value })));
  const refs = fields.find(([name, f]) => name === 'input_urls' && f.type === 'array')?.[1];

  const variants: Record<string, unknown>[] = [...enumCases];
  for (const [name, f] of fields) {
    if (f.type === 'integer' || f.type === 'number') variants.push({ [name]: f.minimum }, { [name]: f.maximum });
    if (f.type === 'string' && !f.enum && f.maxLength !== undefined && name !== 'prompt') variants.push({ [name]: 'n'.repeat(f.maxLength) });
    if (name === 'prompt') variants.push({ prompt: 'p'.repeat(f.maxLength ?? 1000) });
  }
  if (refs) {
    variants.push({ input_urls: references(refs.minItems ?? 1) });
    variants.push(...enumCases.map((combo) => ({ ...combo, input_urls: references(refs.maxItems ?? 1) })));
  }
  return variants.map((fieldsOfCase) => ({
    label: `${model.id} ${describe(fieldsOfCase)}`,
    body: { model: model.id, prompt: 'A lighthouse on a cliff at dusk', ...fieldsOfCase },
  }));
}
