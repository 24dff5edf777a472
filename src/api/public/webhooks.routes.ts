import { createRoute } from '@hono/zod-openapi';
import { requireApiKey } from '../auth/middleware';
import { accountStub } from '../../accounts/account.do';
import { createRouter } from '../app';
import { ApiError } from '../../errors';
import { bearerSecurity, errorResponses, jsonResponse } from '../openapi';
import { malformedParamIsNotFound, TaskIdParam } from '../params';
import { forgetTaskSnapshot } from '../../tasks/task-snapshot';
import { taskStub } from '../../tasks/task.do';
import { WebhookStateSchema } from '../../tasks/task.schema';
import { publicWebhookSecret, WebhookSecretSchema } from '../../accounts/webhook-secrets.schema';

const getSecret = createRoute({
  method: 'get',
  path: '/webhooks/secret',
  operationId: 'getWebhookSecret',
  tags: ['webhooks'],
  summary: 'The webhook signing secret',
  description:
    'The secret that signs every webhook of this account (Standard Webhooks `v1`). Created on first use; ' +
    'stays the same until the account rotates it.',
  security: bearerSecurity,
  middleware: [requireApiKey] as const,
  responses: { 200: jsonResponse(WebhookSecretSchema, 'The current secret.'), ...errorResponses(401) },
});

const redeliver = createRoute({
  method: 'post',
  path: '/tasks/{task_id}/webhook/redeliver',
  operationId: 'redeliverWebhook',
  tags: ['webhooks'],
  summary: "Deliver a finished task's webhook again",
  description:
    'Starts a new delivery with the full retry schedule and the same `webhook-id` (it is the same event). ' +
    'The task must be finished and have a `callback_url`.',
  security: bearerSecurity,
  middleware: [requireApiKey] as const,
  request: { params: TaskIdParam },
  responses: { 202: jsonResponse(WebhookStateSchema, 'Delivery scheduled.'), ...errorResponses(401, 404, 409) },
});

export const webhooksRoutes = createRouter()
  .openapi(getSecret, async (c) => {
    const secrets = await accountStub(c.env, c.get('accountId')).webhookSecrets();
    return c.json(publicWebhookSecret(secrets), 200);
  })
  .openapi(
    redeliver,
    async (c) => {
      const { task_id } = c.req.valid('param');
      const notFound = new ApiError('not_found', `No task ${task_id}.`, { param: 'task_id' });
      const result = await taskStub(c.env, task_id).redeliverWebhook(c.get('accountId'));
      if (result.ok) {
        forgetTaskSnapshot(task_id);
        return c.json(result.webhook, 202);
      }
      switch (result.reason) {
        case 'not_found':
          throw notFound;
        case 'not_terminal':
          throw new ApiError('conflict', `Task ${task_id} is still running; its webhook is sent when it finishes.`);
        case 'no_callback_url':
          throw new ApiError('conflict', `Task ${task_id} has no callback_url, so there is no webhook to deliver.`);
      }
    },
    malformedParamIsNotFound('task_id', 'task'),
  );
