import { createRoute } from '@hono/zod-openapi';
import { requireApiKey } from '../auth/middleware';
import { GenerationRequestSchema } from '../../catalog';
import { createRouter, requiredJsonBody } from '../app';
import { ApiError } from '../../errors';
import { bearerSecurity, errorResponses } from '../openapi';
import { publicOrigin } from '../public-origin';
import { assertOutboundUrls } from '../../outbound/url-guard';
import { createTask } from '../../tasks/create-task';
import { TaskCreatedSchema, type TaskRequest } from '../../tasks/task.schema';

const createGeneration = createRoute({
  method: 'post',
  path: '/images/generations',
  summary: 'Create an image generation task',
  description: 'Validates the request for its `model`, reserves its credits and starts an async task.',
  security: bearerSecurity,
  middleware: [requireApiKey, requiredJsonBody] as const,
  request: { body: { required: true, content: { 'application/json': { schema: GenerationRequestSchema } } } },
  responses: {
    202: { description: 'Task accepted.', content: { 'application/json': { schema: TaskCreatedSchema } } },
    ...errorResponses(400, 401, 402, 413, 415),
  },
});

export const generationsRoutes = createRouter().openapi(createGeneration, async (c) => {
  const request = c.req.valid('json') as TaskRequest & { model: string };
  const origin = publicOrigin(c.env, c.req.url);
  if (!origin.ok) {
    // A deployment fault, not the customer's: refuse before any credits move, and tell the operator what to set.
    console.error(JSON.stringify({ level: 'error', request_id: c.get('requestId'), config: origin.problem }));
    throw new ApiError('internal_error', 'The service is misconfigured and cannot create tasks right now; no credits were charged.');
  }
  assertOutboundUrls(request, c.env);
  const task = await createTask(c.env, c.get('accountId'), request, origin.origin);
  return c.json(
    { task_id: task.task_id, status: task.status, model: task.model, credits: task.credits, created_at: task.created_at },
    202,
  );
});
