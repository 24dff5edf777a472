import { createRoute, z } from '@hono/zod-openapi';
import { baseCredits, findModel, MODELS } from '../../catalog';
import type { ModelEntry } from '../../catalog/types';
import { modelStatus, ModelStatusSchema, nodeSnapshots } from '../../health/model-status';
import type { NodeSnapshot } from '../../health/snapshot';
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
    status: ModelStatusSchema,
  })
  .openapi('Model');

/** The catalog entry as the comparison table shows it, parameters generated from its schema, with its live status. */
function describe(model: ModelEntry, snapshots: ReadonlyMap<string, NodeSnapshot>): z.infer<typeof ModelSchema> {
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
    status: modelStatus(model, snapshots),
  };
}

const listModels = createRoute({
  method: 'get',
  path: '/models',
  operationId: 'listModels',
  tags: ['models'],
  security: [],
  summary: 'The model catalog',
  description:
    "Sorted by base credits, low to high. No authentication needed. Each model's `status` comes from recent tasks and may lag by a few seconds.",
  responses: {
    200: { description: 'Every model.', content: { 'application/json': { schema: z.object({ data: z.array(ModelSchema) }) } } },
  },
});

const getModel = createRoute({
  method: 'get',
  path: '/models/{model_id}',
  operationId: 'getModel',
  tags: ['models'],
  security: [],
  summary: 'One model of the catalog',
  request: { params: ModelIdParam },
  responses: {
    200: jsonResponse(ModelSchema, 'The model.'),
    ...errorResponses(404),
  },
});

export const modelsRoutes = createRouter()
  .openapi(listModels, async (c) => {
    const snapshots = await nodeSnapshots(c.env);
    return c.json({ data: MODELS.map((m) => describe(m, snapshots)).sort((a, b) => a.base_credits - b.base_credits) }, 200);
  })
  .openapi(
    getModel,
    async (c) => {
      const { model_id } = c.req.valid('param');
      const model = findModel(model_id);
      if (!model) throw new ApiError('not_found', `No model ${model_id}.`, { param: 'model_id' });
      return c.json(describe(model, await nodeSnapshots(c.env)), 200);
    },
    malformedParamIsNotFound('model_id', 'model'),
  );
