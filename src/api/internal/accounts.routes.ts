import { createRoute, z } from '@hono/zod-openapi';
import { mintApiKey, revokeApiKey } from '../auth/api-keys';
import { accountStub } from '../../accounts/account.do';
import {
  AccountIdParam,
  CreditsSchema,
  ReconciliationSchema,
  TopUpResultSchema,
  TopUpSchema,
} from '../../accounts/credits.schema';
import { createRouter, requiredJsonBody } from '../app';
import { ApiError } from '../../errors';
import { errorResponses, jsonResponse, internalSecurity } from '../openapi';
import { KeyIdParam, LedgerPageQuery } from '../params';
import { taskStub } from '../../tasks/task.do';

const common = { security: internalSecurity, tags: ['internal'] };

const createKey = createRoute({
  ...common,
  method: 'post',
  path: '/accounts/{account_id}/keys',
  operationId: 'createApiKey',
  summary: 'Mint an API key for an account',
  request: { params: AccountIdParam },
  responses: {
    201: jsonResponse(
      z.object({ key_id: z.string(), api_key: z.string(), account_id: z.string(), created_at: z.string() }).openapi('NewApiKey'),
      'The key; its plaintext appears in this response only.',
    ),
    ...errorResponses(400, 401),
  },
});

const revokeKey = createRoute({
  ...common,
  method: 'delete',
  path: '/keys/{key_id}',
  operationId: 'revokeApiKey',
  summary: 'Revoke an API key',
  request: { params: KeyIdParam },
  responses: { 204: { description: 'Revoked.' }, ...errorResponses(400, 401, 404) },
});

const topUp = createRoute({
  ...common,
  middleware: [requiredJsonBody],
  method: 'post',
  path: '/accounts/{account_id}/credits',
  operationId: 'topUpCredits',
  summary: 'Add credits (idempotent per reference)',
  request: { params: AccountIdParam, body: { required: true, content: { 'application/json': { schema: TopUpSchema } } } },
  responses: { 200: jsonResponse(TopUpResultSchema, 'The balance after the top-up.'), ...errorResponses(400, 401, 409, 413, 415) },
});

const readCredits = createRoute({
  ...common,
  method: 'get',
  path: '/accounts/{account_id}/credits',
  operationId: 'getAccountCredits',
  summary: "An account's credits and ledger",
  request: { params: AccountIdParam, query: LedgerPageQuery },
  responses: { 200: jsonResponse(CreditsSchema, 'Balance, reserved credits and a ledger page.'), ...errorResponses(400, 401) },
});

const reconcile = createRoute({
  ...common,
  method: 'get',
  path: '/accounts/{account_id}/reconciliation',
  operationId: 'reconcileAccount',
  summary: "Check an account's books",
  description:
    'Recomputes the balance from the ledger (top-ups − settled − open reservations) and checks that every open ' +
    'reservation belongs to a task that is still running.',
  request: { params: AccountIdParam },
  responses: { 200: jsonResponse(ReconciliationSchema, 'The check.'), ...errorResponses(400, 401) },
});

export const accountsRoutes = createRouter()
  .openapi(createKey, async (c) => {
    const { account_id } = c.req.valid('param');
    return c.json(await mintApiKey(c.env, account_id), 201);
  })
  .openapi(revokeKey, async (c) => {
    const { key_id } = c.req.valid('param');
    if (!(await revokeApiKey(c.env, key_id))) throw new ApiError('not_found', `No key ${key_id}.`, { param: 'key_id' });
    return c.body(null, 204);
  })
  .openapi(topUp, async (c) => {
    const { account_id } = c.req.valid('param');
    const { amount, reference } = c.req.valid('json');
    const result = await accountStub(c.env, account_id).topUp(account_id, amount, reference);
    if (!result.ok) throw new ApiError('conflict', result.message, { param: 'reference' });
    return c.json({ account_id: result.account_id, balance: result.balance }, 200);
  })
  .openapi(readCredits, async (c) => {
    const { account_id } = c.req.valid('param');
    return c.json(await accountStub(c.env, account_id).credits(account_id, c.req.valid('query')), 200);
  })
  .openapi(reconcile, async (c) => {
    const { account_id } = c.req.valid('param');
    const books = await accountStub(c.env, account_id).reconcile(account_id);
    const open = await Promise.all(
      books.open_reservations.map(async (r) => {
        const task = await taskStub(c.env, r.task_id).view(account_id);
        return { ...r, task_status: task?.status ?? 'missing' };
      }),
    );
    const problems = [
      ...(books.consistent ? [] : ['balance, reserved and ledger disagree']),
      ...open
        .filter((r) => r.task_status !== 'pending' && r.task_status !== 'processing')
        .map((r) => `reservation of ${r.task_id} is open but its task is ${r.task_status}`),
      ...open.filter((r) => r.overdue).map((r) => `reservation of ${r.task_id} is still open past its task's deadline`),
    ];
    return c.json({ ...books, open_reservations: open, consistent: problems.length === 0, problems }, 200);
  });
