import { createRoute } from '@hono/zod-openapi';
import { requireApiKey } from '../auth/middleware';
import { accountStub } from '../../accounts/account.do';
import { CreditsSchema } from '../../accounts/credits.schema';
import { createRouter } from '../app';
import { bearerSecurity, errorResponses, jsonResponse } from '../openapi';
import { LedgerPageQuery } from '../params';

const getCredits = createRoute({
  method: 'get',
  path: '/billing/credits',
  operationId: 'getCredits',
  tags: ['billing'],
  summary: "The caller's credits and ledger",
  description: 'Ledger newest first; pass `next_cursor` back as `cursor` for older entries.',
  security: bearerSecurity,
  middleware: [requireApiKey] as const,
  request: { query: LedgerPageQuery },
  responses: {
    200: jsonResponse(CreditsSchema, 'Balance, reserved credits and a ledger page.'),
    ...errorResponses(400, 401),
  },
});

export const billingRoutes = createRouter().openapi(getCredits, async (c) => {
  const accountId = c.get('accountId');
  const query = c.req.valid('query');
  return c.json(await accountStub(c.env, accountId).credits(accountId, query), 200);
});
