import { z } from '@hono/zod-openapi';
import { baseCredits, MODELS } from '../src/catalog';
import type { ModelEntry } from '../src/catalog/types';

interface FieldSchema {
  description?: string;
  type?: string;
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  items?: FieldSchema;
  anyOf?: FieldSchema[];
}

const code = (value: unknown) => `\`${String(value)}\``;

function rule(field: FieldSchema): string {
  if (field.anyOf) return field.anyOf.map(rule).join(' or ');
  if (field.enum) return field.enum.map(code).join(', ');
  if (field.type === 'string') {
    const range = field.minLength !== undefined && field.maxLength !== undefined ? `${field.minLength}–${field.maxLength} characters` : 'string';
    return field.maxLength === 2048 && field.minLength === undefined ? 'URL' : range;
  }
  if (field.type === 'integer' || field.type === 'number') {
    return `${field.type} ${field.minimum ?? ''}–${field.maximum ?? ''}`;
  }
  if (field.type === 'array') {
    return `${field.minItems ?? 0}–${field.maxItems ?? '∞'} × ${field.items ? rule(field.items) : 'item'}`;
  }
  return field.type ?? 'any';
}

function parameters(model: ModelEntry): string {
  const schema = z.toJSONSchema(model.schema, { io: 'input', unrepresentable: 'any' }) as {
    properties: Record<string, FieldSchema>;
    required?: string[];
  };
  const rows = Object.entries(schema.properties)
    .filter(([name]) => name !== 'model')
    .map(([name, field]) => {
      const fallback = schema.required?.includes(name) ? 'required' : field.default !== undefined ? code(field.default) : 'optional';
      return `| \`${name}\` | ${rule(field)} | ${fallback} | ${field.description ?? ''} |`;
    });
  return ['| field | allowed | default | meaning |', '|---|---|---|---|', ...rows].join('\n');
}

function prices(model: ModelEntry): string {
  const per = model.count_field ? ` per image (× \`${model.count_field}\`)` : '';
  if (model.prices.length === 1) return `${model.prices[0]!.credits} credits${per}.`;
  const rows = model.prices.map(
    (row) => `${Object.entries(row.when).map(([k, v]) => `${k} ${code(v)}`).join(', ')}: ${row.credits}`,
  );
  return `Credits${per}: ${rows.join('; ')}.`;
}

/**
 * The README's model section, generated from the catalog so that it cannot drift from what the API
 * accepts and charges; `npm run docs` writes it and a test checks that README.md holds it.
 */
export function modelsMarkdown(): string {
  const sorted = [...MODELS].sort((a, b) => baseCredits(a) - baseCredits(b));
  const summary = [
    '| model | provider | backend nodes | provider API | base credits | input | secret |',
    '|---|---|---|---|---|---|---|',
    ...sorted.map(
      (m) =>
        `| \`${m.id}\` | ${m.provider} | ${m.nodes.map((n) => n.id).join(', ')} | ${[...new Set(m.nodes.map((n) => n.provider))].join(', ')} | ${baseCredits(m)} | ${m.input_kinds.join(' + ')} | ${[...new Set(m.nodes.map((n) => code(n.secret)))].join(', ')} |`,
    ),
  ].join('\n');
  const details = sorted.map((m) => [`### \`${m.id}\` — ${m.display_name}`, '', m.description, '', prices(m), '', parameters(m)].join('\n'));
  return [summary, ...details].join('\n\n');
}
