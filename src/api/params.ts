import { z } from '@hono/zod-openapi';
import { MODELS } from '../catalog';
import { FILE_ID_PATTERN, KEY_ID_PATTERN, TASK_ID_PATTERN } from '../ids';
import { ApiError, validationError } from '../errors';
import { TASK_STATUSES } from '../tasks/task.schema';

/**
 * Path and query parameters. Every path parameter has a length and an alphabet, checked before a
 * handler runs: a value that could never name anything must not reach storage, where it would
 * become a KV key past its 512 bytes or a Durable Object name (a 500), and the rule is shown in the
 * OpenAPI document.
 */

/** An id we mint: a fixed length (checked first, so a 600-character value gets one message) and an alphabet. */
function mintedId(pattern: RegExp, length: number, shape: string, example: string) {
  const message = `must be ${shape}`;
  return z.string().length(length, { error: message, abort: true }).regex(pattern, message).openapi({ example });
}

export const TaskIdParam = z.object({
  task_id: mintedId(TASK_ID_PATTERN, 27, 'task_ followed by 22 letters or digits', 'task_3hG5vQ0kVn1yWm8ZrTq2bC'),
});

export const FileIdParam = z.object({
  file_id: mintedId(FILE_ID_PATTERN, 36, 'img_ followed by 32 letters or digits', 'img_Qm3Xc9LpT0vB7nR2sYw4Kd8Hf1Ja6Ze5'),
});

export const KeyIdParam = z.object({
  key_id: mintedId(KEY_ID_PATTERN, 20, 'key_ followed by 16 letters or digits', 'key_7Hq2Lm9Xc4Vb1Nz8'),
});

export const ModelIdParam = z.object({
  model_id: z
    .string()
    .max(64, { error: 'must be at most 64 characters', abort: true })
    .regex(/^[a-z0-9][a-z0-9.-]*$/, 'must be lowercase letters, digits, "." or "-"')
    .openapi({ example: 'flux-2' }),
});

/**
 * The validation hook of a route whose path names something a caller may not know exists (a task,
 * a file, a model): a malformed id is answered as an unknown one, 404, so the answer never depends
 * on more than "there is no such thing for you". Other validation failures are the usual 400.
 */
export function malformedParamIsNotFound(param: string, noun: string) {
  return (result: { target: string } & ({ success: true } | { success: false; error: z.ZodError })): undefined => {
    if (result.success) return undefined;
    if (result.target === 'param') throw new ApiError('not_found', `No such ${noun}.`, { param });
    throw validationError(result.error.issues);
  };
}

/**
 * An integer query parameter, written in decimal digits only: `Number()` (and `z.coerce.number`)
 * would also read `0x10`, `1e1`, ` 16` and `16.0`, none of which a client means as a count.
 */
export function decimalQueryInteger(min: number, max: number, fallback: number) {
  return z
    .string()
    .regex(/^[0-9]{1,10}$/, 'must be a whole number in decimal digits')
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`))
    .optional()
    .default(fallback)
    .openapi({ type: 'integer', minimum: min, maximum: max, default: fallback });
}

/** A page of an account's ledger: `limit` entries older than `cursor` (a `next_cursor` from before). */
export const LedgerPageQuery = z.object({
  limit: decimalQueryInteger(1, 200, 50),
  cursor: z.string().regex(/^\d{1,15}$/, 'must be a cursor returned as next_cursor').optional(),
});

/**
 * A page of the caller's tasks, newest first: `limit` tasks after `cursor` (a `next_cursor` from
 * before, valid only with the same filters), optionally only those with `status` or `model`.
 */
export const TaskListQuery = z.object({
  limit: decimalQueryInteger(1, 100, 20),
  cursor: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,200}$/, 'must be a cursor returned as next_cursor')
    .optional()
    .openapi({ description: 'The `next_cursor` of the previous page, with the same `status` and `model`.' }),
  status: z.enum(TASK_STATUSES, { error: `must be one of ${TASK_STATUSES.join(', ')}` }).optional(),
  model: z
    .enum(MODELS.map((m) => m.id) as [string, ...string[]], { error: 'must be the id of a model in the catalog' })
    .optional()
    .openapi({ example: 'flux-2' }),
});

/** `Idempotency-Key` (IETF draft `httpapi-idempotency-key-header`): 1 to 255 printable ASCII characters. */
export const IDEMPOTENCY_KEY_PATTERN = /^[\x20-\x7E]{1,255}$/;

/**
 * The headers of task creation. Header names are matched case-insensitively by the validator, and
 * a bad value is a 400 naming `Idempotency-Key`, before the body is looked at.
 */
export const IdempotencyKeyHeader = z.object({
  'Idempotency-Key': z
    .string()
    .min(1, { error: 'must not be empty', abort: true })
    .max(255, { error: 'must be at most 255 characters', abort: true })
    .regex(IDEMPOTENCY_KEY_PATTERN, 'must be printable ASCII characters (0x20 to 0x7E) only')
    .optional()
    .openapi({
      description:
        'Makes retries safe: the same key with the same body answers the first answer again (with `Idempotent-Replayed: true`) ' +
        'and creates nothing; with another body `422 idempotency_key_reused`; while the first request runs `409` with `Retry-After`. ' +
        'Scoped to the account, remembered for 24 hours; a refused creation (e.g. `402`) leaves the key unused.',
      example: 'order-1234-attempt',
    }),
});
