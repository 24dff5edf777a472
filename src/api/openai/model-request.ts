import type { z } from '@hono/zod-openapi';
import type { ModelEntry } from '../../catalog/types';
import { ApiError, validationError } from '../../errors';
import type { InputValue, TaskRequest } from '../../tasks/task.schema';
import { matchSize, parseSize } from './size-match';

/**
 * OpenAI's request fields onto one catalog model's own, read from the model's entry: `n` onto its
 * `count_field`, `size` onto the fields of its `output_sizes`, `quality` onto a `quality` field of its
 * schema. Nothing here names a model; a field the model cannot honour is a 400 naming OpenAI's field.
 */

/** The OpenAI fields this mapping consumes; everything else in the body is the model's own. */
export interface OpenAIFields {
  prompt: string;
  n?: number | undefined;
  size?: string | undefined;
  quality?: string | undefined;
}

interface FieldDef {
  type: string;
  innerType?: z.ZodType;
  entries?: Record<string, string | number>;
}

const WRAPPERS = new Set(['default', 'optional', 'nullable', 'prefault', 'readonly']);

/** A field of the model's schema without its default/optional wrappers, or null if it has no such field. */
export function modelField(model: ModelEntry, name: string): z.ZodType | null {
  let field = (model.schema.shape as Record<string, z.ZodType | undefined>)[name];
  while (field) {
    const def = defOf(field);
    if (!WRAPPERS.has(def.type) || !def.innerType) return field;
    field = def.innerType;
  }
  return null;
}

const defOf = (field: z.ZodType): FieldDef => field._zod.def as unknown as FieldDef;

/** The most images one request can make on the model: its count field's maximum, else 1. */
export function maxCount(model: ModelEntry): number {
  const field = model.count_field ? modelField(model, model.count_field) : null;
  return (field as z.ZodNumber | null)?.maxValue ?? 1;
}

/** The values an enum field of the model allows, or null when it has no such enum field. */
export function enumValues(model: ModelEntry, name: string): string[] | null {
  const field = modelField(model, name);
  const def = field && defOf(field);
  return def?.type === 'enum' && def.entries ? Object.values(def.entries).map(String) : null;
}

const bad = (param: string, message: string) => new ApiError('invalid_request', `${param}: ${message}`, { param, details: [{ path: param, message }] });

/** The model fields OpenAI's `n`, `size` and `quality` ask for, each with the OpenAI field it came from. */
function mapOpenAIFields(model: ModelEntry, openai: OpenAIFields): { fields: Record<string, string | number>; from: Record<string, string> } {
  const fields: Record<string, string | number> = {};
  const from: Record<string, string> = {};
  const set = (field: string, value: string | number, openaiField: string) => {
    fields[field] = value;
    from[field] = openaiField;
  };

  if (openai.n !== undefined) {
    if (model.count_field) set(model.count_field, openai.n, 'n');
    else if (openai.n !== 1) throw bad('n', `${model.id} makes one image per request; n must be 1`);
  }

  if (openai.quality !== undefined) {
    const allowed = enumValues(model, 'quality');
    if (allowed?.includes(openai.quality)) set('quality', openai.quality, 'quality');
    // `auto` leaves the choice to the model: its own default.
    else if (openai.quality !== 'auto') {
      throw bad('quality', allowed ? `${model.id} takes one of ${allowed.join(', ')}` : `${model.id} has no quality setting; send auto or leave it out`);
    }
  }

  if (openai.size !== undefined) {
    const sizes = model.output_sizes ?? [];
    const sizeFields = [...new Set(sizes.flatMap((s) => Object.keys(s.fields)))];
    if (openai.size === 'auto') {
      // Where a size field offers `auto` (the model picks from the prompt), that is what OpenAI's auto means.
      for (const field of sizeFields) if (enumValues(model, field)?.includes('auto')) set(field, 'auto', 'size');
    } else {
      const pixels = parseSize(openai.size);
      if (!pixels) throw bad('size', 'must be auto or WIDTHxHEIGHT, e.g. 1024x1024');
      const match = matchSize(sizes, pixels[0], pixels[1]);
      if (!match.ok) {
        const offered = [...new Set(sizes.map((s) => `${s.width}x${s.height}`))].join(', ');
        throw bad('size', `${model.id} cannot render about ${openai.size} (${match.reason}); it renders ${offered || 'only auto'}`);
      }
      for (const [field, value] of Object.entries(match.size.fields)) set(field, value, 'size');
    }
  }
  return { fields, from };
}

/**
 * The model's request for an OpenAI-style call: its own fields (`own`, as sent), OpenAI's mapped onto
 * them, and `extra` fields the route fills in itself (uploaded images, named `extraParam` in errors).
 * Validated by the model's strict schema, defaults applied; errors name the field the caller sent.
 */
export function modelRequest(
  model: ModelEntry,
  openai: OpenAIFields,
  own: Record<string, unknown>,
  extra: { fields: Record<string, InputValue>; param: string } | null = null,
): TaskRequest & { model: string } {
  const mapped = mapOpenAIFields(model, openai);
  for (const [field, value] of Object.entries(mapped.fields)) {
    if (field in own && own[field] !== value) {
      const by = mapped.from[field]!;
      throw bad(by, `${by} asks for ${field} ${JSON.stringify(value)} but ${field} is ${JSON.stringify(own[field])}; send one of them`);
    }
  }
  const rename: Record<string, string> = { ...mapped.from };
  if (extra) for (const field of Object.keys(extra.fields)) rename[field] = extra.param;
  const parsed = model.schema.safeParse({ ...own, ...mapped.fields, ...extra?.fields, model: model.id, prompt: openai.prompt });
  if (!parsed.success) {
    throw validationError(
      parsed.error.issues.map((issue) => {
        const [head, ...rest] = issue.path;
        return typeof head === 'string' && rename[head] ? { ...issue, path: [rename[head]!, ...rest] } : issue;
      }),
    );
  }
  return parsed.data as TaskRequest & { model: string };
}

/**
 * A model's own field sent as multipart text, as its schema types it: numbers and booleans are read
 * from their text (a form has no other types); anything else stays text for the schema to judge.
 */
export function fromFormText(model: ModelEntry, field: string, text: string): InputValue {
  const schema = modelField(model, field);
  const type = schema && defOf(schema).type;
  if (type === 'number' && /^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  if (type === 'boolean' && (text === 'true' || text === 'false')) return text === 'true';
  return text;
}
