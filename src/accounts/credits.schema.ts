import { z } from '@hono/zod-openapi';

export const AccountIdParam = z.object({
  account_id: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1 to 64 letters, digits, "_" or "-"')
    .openapi({ example: 'acct_123' }),
});

export const LedgerEntrySchema = z.object({
  id: z.string(),
  kind: z.enum(['topup', 'reserve', 'settle', 'refund']),
  amount: z.number().int().openapi({ description: 'Always positive; `kind` says where the credits moved.' }),
  task_id: z.string().optional(),
  reference: z.string().optional(),
  balance_after: z.number().int(),
  created_at: z.string(),
});

export const CreditsSchema = z
  .object({
    account_id: z.string(),
    balance: z.number().int().openapi({ description: 'Credits available for new tasks.' }),
    reserved: z.number().int().openapi({ description: 'Credits held by tasks still running.' }),
    ledger: z.array(LedgerEntrySchema),
    next_cursor: z.string().nullable(),
  })
  .openapi('Credits');

export const TopUpSchema = z
  .object({
    amount: z
      .number({ error: 'is required and must be a number' })
      .int('must be an integer')
      .positive('must be positive')
      .max(1_000_000_000, 'must be at most 1000000000'),
    reference: z
      .string({ error: 'is required and must be a string' })
      .min(1, 'must not be empty')
      .max(200, 'must be at most 200 characters'),
  })
  .strict()
  .openapi('TopUp');

export const TopUpResultSchema = z.object({ account_id: z.string(), balance: z.number().int() }).openapi('TopUpResult');

export const ReconciliationSchema = z
  .object({
    account_id: z.string(),
    balance: z.number().int(),
    reserved: z.number().int(),
    topups: z.number().int(),
    settled: z.number().int(),
    refunded: z.number().int(),
    open_reservations: z.array(
      z.object({
        task_id: z.string(),
        amount: z.number().int(),
        created_at: z.string(),
        task_status: z.string(),
        overdue: z.boolean().openapi({ description: "Still open past its task's deadline and the time to settle: a stuck task." }),
      }),
    ),
    consistent: z.boolean(),
    problems: z.array(z.string()),
  })
  .openapi('Reconciliation');
