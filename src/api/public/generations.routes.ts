import { createRoute, z } from '@hono/zod-openapi';
import { requireApiKey } from '../auth/middleware';
import { acceptedAnswer } from '../../accounts/idempotency';
import { GenerationRequestSchema } from '../../catalog';
import { createRouter, requiredJsonBody } from '../app';
import { ApiError } from '../../errors';
import { log } from '../../log';
import { bearerSecurity, errorResponses } from '../openapi';
import { IdempotencyKeyHeader } from '../params';
import { requirePublicOrigin } from '../public-origin';
import { assertOutboundUrls } from '../../outbound/url-guard';
import { createTask } from '../../tasks/create-task';
import { isTerminal, TaskCreatedSchema, type TaskRequest, TaskSchema } from '../../tasks/task.schema';
import { waitForTask } from '../../tasks/wait-for-task';
import { preferredWait } from '../prefer';

const createGeneration = createRoute({
  method: 'post',
  path: '/images/generations',
  operationId: 'createGeneration',
  tags: ['images'],
  summary: 'Create an image generation task',
  description:
    'Validates the request for its `model`, reserves its credits and starts an async task. With an `Idempotency-Key`, ' +
    'a retry answers the first answer again, byte for byte, with `Idempotent-Replayed: true`. With `Prefer: wait=N` ' +
    'the answer waits up to N seconds for the task to end.',
  security: bearerSecurity,
  middleware: [requireApiKey, requiredJsonBody] as const,
  request: {
    headers: IdempotencyKeyHeader.extend({
      prefer: z.string().optional().openapi({
        description: 'RFC 7240. `wait=N` (1–60; more is taken as 60): answer once the task ends, or after N seconds.',
        example: 'wait=30',
      }),
    }),
    body: { required: true, content: { 'application/json': { schema: GenerationRequestSchema } } },
  },
  responses: {
    200: {
      description: 'With `Prefer: wait=N`: the task ended within N seconds; the whole task. Carries `Preference-Applied`.',
      content: { 'application/json': { schema: TaskSchema } },
    },
    202: {
      description:
        'Task accepted (or, with `Idempotent-Replayed: true`, accepted before): the short form, or with `Prefer: wait=N` ' +
        'the whole task as it is after N seconds.',
      content: { 'application/json': { schema: z.union([TaskCreatedSchema, TaskSchema]) } },
    },
    ...errorResponses(400, 401, 402, 409, 413, 415, 422),
  },
});

export const generationsRoutes = createRouter().openapi(createGeneration, async (c) => {
  const request = c.req.valid('json') as TaskRequest & { model: string };
  const key = c.req.valid('header')['Idempotency-Key'];
  const origin = requirePublicOrigin(c);
  assertOutboundUrls(request, c.env);
  // The fingerprint is of the body as sent (before defaults), so "the same body" means the same JSON value.
  const idempotency = key === undefined ? undefined : { key, body: await c.req.json<unknown>() };
  const creation = await createTask(c.env, c.get('accountId'), request, origin, idempotency);
  if (creation.replayed) {
    // The text this route sent before; stringifying the value it parses to gives the same bytes back.
    c.header('idempotent-replayed', 'true');
    return c.json(JSON.parse(creation.body), creation.status === 200 ? 200 : 202);
  }
  // Whatever this route answers is what replays answer: store it generically, status and body.
  const wait = preferredWait(c.req.header('prefer'));
  if (wait === null) {
    const answer = acceptedAnswer(creation.task);
    await creation.answered(answer.status, answer.body);
    return c.json(answer.body, answer.status);
  }
  const task = await waitForTask(c.env, c.get('accountId'), creation.task, wait * 1000);
  const status = isTerminal(task.status) ? 200 : 202;
  await creation.answered(status, task);
  c.header('preference-applied', `wait=${wait}`);
  return c.json(task, status);
});
