import { createRoute } from '@hono/zod-openapi';
import { requireApiKey } from '../auth/middleware';
import { accountStub } from '../billing/account.do';
import { findModel, GenerationRequestSchema, priceOf } from '../catalog';
import { createRouter, requiredJsonBody } from '../http/app';
import { ApiError } from '../http/errors';
import { bearerSecurity, errorResponses } from '../http/openapi';
import { publicOrigin } from '../http/public-origin';
import { assertOutboundUrls } from '../http/url-guard';
import { newTaskId } from '../ids';
import { noteTaskState } from '../tasks/task-snapshot';
import { taskStub } from '../tasks/task.do';
import { TaskCreatedSchema, type TaskRequest, type TaskView } from '../tasks/task.schema';

const createGeneration = createRoute({
  method: 'post',
  path: '/api/v1/images/generations',
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
  const model = findModel(request.model);
  if (!model) throw new ApiError('invalid_request', `model: unknown model ${request.model}`, { param: 'model' });

  const accountId = c.get('accountId');
  const taskId = newTaskId();
  const price = priceOf(model, request);
  const account = accountStub(c.env, accountId);
  const reservation = await account.reserve(accountId, taskId, price);
  if (!reservation.ok) {
    throw new ApiError(
      'insufficient_credits',
      `This task costs ${reservation.price} credits but the balance is ${reservation.balance}.`,
    );
  }

  const stub = taskStub(c.env, taskId);
  const init = {
    task_id: taskId,
    account_id: accountId,
    model: model.id,
    request,
    credits: price,
    images_requested: model.count_field ? Math.max(1, Number(request[model.count_field] ?? 1)) : 1,
    node_count: model.nodes.length,
    public_base_url: origin.origin,
  };
  let task: TaskView | null;
  try {
    task = await stub.create(init);
  } catch (err) {
    // The answer was lost, not necessarily the task: ask again, and if the task does not exist,
    // make sure it never will, so the reservation can be returned at once.
    console.error(JSON.stringify({ level: 'error', task_id: taskId, create: String(err) }));
    try {
      task = await stub.existingOrAbandon();
    } catch {
      throw new ApiError('internal_error', 'The task could not be created; its reserved credits are returned automatically.', { cause: err });
    }
  }
  if (!task) {
    await account.resolve(taskId, 0);
    throw new ApiError('internal_error', 'The task could not be created; no credits were charged.');
  }
  // Its creator polls it next; on this isolate those polls can skip the KV read that would miss.
  noteTaskState(task.task_id, task);
  return c.json(
    { task_id: task.task_id, status: task.status, model: task.model, credits: task.credits, created_at: task.created_at },
    202,
  );
});
