import { createRoute, z } from '@hono/zod-openapi';
import { config } from '../config';
import { createRouter } from './app';
import { jsonResponse } from './openapi';

/**
 * `GET /healthz` for load balancers and uptime checks: 200 while this Worker serves requests with a
 * configuration it can run with (parsed once per isolate, so the check is free; a bad variable is a 500).
 * It touches no storage on purpose (only the per-address rate limiter every anonymous route passes): a
 * probe every few seconds from several checkers would otherwise be a billed Durable Object or KV call
 * each, and a storage outage is what the routes' own 5xx and the logs report, per route and per account.
 */
const getHealth = createRoute({
  method: 'get',
  path: '/healthz',
  operationId: 'getHealth',
  security: [],
  tags: ['operations'],
  summary: 'Health check',
  description: 'No authentication. Answers from the Worker alone: no storage is touched.',
  responses: {
    200: jsonResponse(z.object({ status: z.literal('ok') }).openapi('Health'), 'The Worker is serving.'),
  },
});

export const healthRoutes = createRouter().openapi(getHealth, (c) => {
  config(c.env);
  return c.json({ status: 'ok' as const }, 200);
});
