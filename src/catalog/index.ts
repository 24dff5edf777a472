import { z } from '@hono/zod-openapi';
import { cogview4 } from './cogview-4';
import { flux2 } from './flux-2';
import { gptImage15Official } from './gpt-image-1.5-official';
import { grokImagine } from './grok-imagine';
import { hunyuanImage3 } from './hunyuan-image-3';
import { ideogramV3 } from './ideogram-v3';
import { ideogramV4 } from './ideogram-v4';
import { imagen4 } from './imagen-4';
import { klingImageO1 } from './kling-image-o1';
import { recraftV4 } from './recraft-v4';
import type { ModelEntry, PriceRow } from './types';

/** Every model on `POST /api/v1/images/generations`; adding a model is adding its entry here. */
export const MODELS: readonly ModelEntry[] = [
  flux2,
  cogview4,
  klingImageO1,
  hunyuanImage3,
  grokImagine,
  recraftV4,
  gptImage15Official,
  imagen4,
  ideogramV3,
  ideogramV4,
];

const BY_ID = new Map(MODELS.map((m) => [m.id, m]));

export function findModel(id: string): ModelEntry | undefined {
  return BY_ID.get(id);
}

function matches(row: PriceRow, input: Record<string, unknown>): boolean {
  return Object.entries(row.when).every(([field, value]) => String(input[field]) === value);
}

/** Credits a request costs: the first matching row of the model's price table, per image made. */
export function priceOf(model: ModelEntry, input: Record<string, unknown>): number {
  const row = model.prices.find((r) => matches(r, input));
  if (!row) throw new Error(`no price row of ${model.id} matches ${JSON.stringify(input)}`);
  const count = model.count_field ? Number(input[model.count_field] ?? 1) : 1;
  return row.credits * count;
}

/** The cheapest price, shown as the model's base credits. */
export const baseCredits = (model: ModelEntry): number => Math.min(...model.prices.map((r) => r.credits));

const [firstSchema, ...otherSchemas] = MODELS.map((m) => m.schema);
if (!firstSchema) throw new Error('the catalog has no models');

/** The request body of the generations route: `model` picks the model's own strict schema. */
export const GenerationRequestSchema = z
  .discriminatedUnion('model', [firstSchema, ...otherSchemas], {
    error: (issue) =>
      issue.code === 'invalid_union' ? `is required and must be one of ${MODELS.map((m) => m.id).join(', ')}` : undefined,
  })
  .openapi('GenerationRequest');
