import { createRoute, z } from '@hono/zod-openapi';
import { accountStub } from '../../accounts/account.do';
import { AccountIdParam } from '../../accounts/credits.schema';
import { MAX_REQUESTS_PER_MINUTE } from '../../accounts/rate-limit';
import { createRouter, requiredJsonBody } from '../app';
import { errorResponses, internalSecurity, jsonResponse } from '../openapi';
import { dropLease } from '../rate-limit';

/** The BFF sets each account's request rate limit here (contract, "Operating"); until then the deployment's default applies. */

const SetLimitsSchema = z
  .object({
    requests_per_minute: z
      .number({ error: 'is required and must be a number' })
      .int('must be an integer')
      .min(1, 'must be at least 1')
      .max(MAX_REQUESTS_PER_MINUTE, `must be at most ${MAX_REQUESTS_PER_MINUTE}`)
      .openapi({ description: 'Requests a minute, every authenticated customer route counted; bursts up to this many at once.' }),
  })
  .strict()
  .openapi('SetAccountLimits');

const AccountLimitsSchema = z
  .object({
    account_id: z.string(),
    requests_per_minute: z.number().int(),
    is_default: z.boolean().openapi({ description: 'True while the BFF has set no limit for the account and the default applies.' }),
  })
  .openapi('AccountLimits');

const common = { security: internalSecurity, tags: ['internal'] };

const setLimits = createRoute({
  ...common,
  middleware: [requiredJsonBody],
  method: 'put',
  path: '/accounts/{account_id}/limits',
  operationId: 'setAccountLimits',
  summary: "Set an account's rate limit",
  description:
    'Applies from the account’s next request: a lower limit at once, a higher one with the difference added to what ' +
    'is left. Answers carry `RateLimit-Policy` and `RateLimit`; over the limit, `429 rate_limited` with `Retry-After`.',
  request: {
    params: AccountIdParam,
    body: { required: true, content: { 'application/json': { schema: SetLimitsSchema } } },
  },
  responses: { 200: jsonResponse(AccountLimitsSchema, 'The limits now in force.'), ...errorResponses(400, 401, 413, 415) },
});

const getLimits = createRoute({
  ...common,
  method: 'get',
  path: '/accounts/{account_id}/limits',
  operationId: 'getAccountLimits',
  summary: "An account's rate limit",
  request: { params: AccountIdParam },
  responses: { 200: jsonResponse(AccountLimitsSchema, 'The limits in force: the ones set, or the default.'), ...errorResponses(400, 401) },
});

export const limitsRoutes = createRouter()
  .openapi(setLimits, async (c) => {
    const { account_id } = c.req.valid('param');
    const { requests_per_minute } = c.req.valid('json');
    const limits = await accountStub(c.env, account_id).setRequestLimits(requests_per_minute);
    dropLease(account_id);
    return c.json({ account_id, ...limits }, 200);
  })
  .openapi(getLimits, async (c) => {
    const { account_id } = c.req.valid('param');
    return c.json({ account_id, ...(await accountStub(c.env, account_id).requestLimits()) }, 200);
  });
