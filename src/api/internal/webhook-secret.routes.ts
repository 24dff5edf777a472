import { createRoute } from '@hono/zod-openapi';
import { accountStub } from '../../accounts/account.do';
import { AccountIdParam } from '../../accounts/credits.schema';
import {
  DEFAULT_ROTATION_GRACE_S,
  publicWebhookSecret,
  RotatedWebhookSecretSchema,
  RotateWebhookSecretSchema,
} from '../../accounts/webhook-secrets.schema';
import { createRouter, optionalJsonBody } from '../app';
import { errorResponses, jsonResponse, internalSecurity } from '../openapi';

const rotateSecret = createRoute({
  method: 'post',
  path: '/accounts/{account_id}/webhook-secret',
  operationId: 'rotateWebhookSecret',
  summary: "Rotate an account's webhook secret",
  description:
    'Makes a new current secret. The old one keeps signing beside it for `grace_seconds` (default 24 h), ' +
    'so receivers can switch without rejecting a delivery. The body is optional.',
  security: internalSecurity,
  middleware: [optionalJsonBody] as const,
  tags: ['internal'],
  request: {
    params: AccountIdParam,
    body: { required: false, content: { 'application/json': { schema: RotateWebhookSecretSchema } } },
  },
  responses: { 200: jsonResponse(RotatedWebhookSecretSchema, 'The new secret.'), ...errorResponses(400, 401, 413, 415) },
});

export const webhookSecretRoutes = createRouter().openapi(rotateSecret, async (c) => {
  const { account_id } = c.req.valid('param');
  const grace = c.req.valid('json').grace_seconds ?? DEFAULT_ROTATION_GRACE_S;
  const secrets = await accountStub(c.env, account_id).rotateWebhookSecret(grace);
  return c.json({ account_id, ...publicWebhookSecret(secrets) }, 200);
});
