import { createRoute, z } from '@hono/zod-openapi';
import { baseCredits, findModel, MODELS } from '../../catalog';
import type { ModelEntry } from '../../catalog/types';
import { createRouter } from '../app';
import { ApiError } from '../../errors';
import { errorResponses, jsonResponse } from '../openapi';
import { malformedParamIsNotFound, ModelIdParam } from '../params';

const ModelSchema = z
  .object({
    id: z.string(),
    display_name: z.string(),
    description: z.string(),
    provider: z.string(),
    runtime: z.string(),
    input: z.array(z.string()),
    output: z.string(),
    base_credits: z.number().int(),
    prices: z.array(z.object({ when: z.record(z.string(), z.string()), credits: z.number().int() })),
    backend_nodes: z.array(z.string()),
    parameters: z.record(z.string(), z.unknown()).openapi({ description: "JSON Schema of the model's request body." }),
  })
  .openapi('Model');

/** The catalog entry as the comparison table shows it, parameters generated from its schema. */
function describe(model: ModelEntry): z.infer<typeof ModelSchema> {
  return {
    id: model.id,
    display_name: model.display_name,
    description: model.description,
    provider: model.provider,
    runtime: model.runtime,
    input: [...model.input_kinds],
    output: model.output_kind,
    base_credits: baseCredits(model),
    prices: model.prices,
    backend_nodes: model.nodes.map((n) => n.id),
    parameters: z.toJSONSchema(model.schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>,
  };
}

const listModels = createRoute({
  method: 'get',
  path: '/models',
  summary: 'The model catalog',
  description: 'Sorted by base credits, low to high. No authentication needed.',
  responses: {
    200: { description: 'Every model.', content: { 'application/json': { schema: z.object({ data: z.array(ModelSchema) }) } } },
  },
});

const getModel = createRoute({
  method: 'get',
  path: '/models/{model_id}',
  summary: 'One model of the catalog',
  request: { params: ModelIdParam },
  responses: {
    200: jsonResponse(ModelSchema, 'The model.'),
    ...errorResponses(404),
  },
});

export const modelsRoutes = createRouter()
  .openapi(listModels, (c) =>
    c.json({ data: MODELS.map(describe).sort((a, b) => a.base_credits - b.base_credits) }, 200),
  )
  .openapi(
    getModel,
    (c) => {
      const { model_id } = c.req.valid('param');
      const model = findModel(model_id);
      if (!model) throw new ApiError('not_found', `No model ${model_id}.`, { param: 'model_id' });
      return c.json(describe(model), 200);
    },
    malformedParamIsNotFound('model_id', 'model'),
  );
