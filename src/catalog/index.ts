import { z } from '@hono/zod-openapi';
import { flux2 } from './flux-2';
import type { ModelEntry, PriceRow } from './types';

/** Every model on `POST /api/v1/images/generations`; adding a model is adding its entry here. */
export const MODELS: readonly ModelEntry[] = [flux2];

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

/** The request body of the generations route: `model` picks the model's own strict schema. */
export const GenerationRequestSchema = z
  .discriminatedUnion('model', MODELS.map((m) => m.schema) as unknown as [z.ZodObject, ...z.ZodObject[]], {
    error: (issue) =>
      issue.code === 'invalid_union' ? `is required and must be one of ${MODELS.map((m) => m.id).join(', ')}` : undefined,
  })
  .openapi('GenerationRequest');
