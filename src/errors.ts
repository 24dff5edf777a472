import { z } from '@hono/zod-openapi';

/** The `code` values of the contract, each with its HTTP status and OpenAI/Stripe-style `type`. */
const ERROR_CODES = {
  invalid_json: { status: 400, type: 'invalid_request_error' },
  invalid_request: { status: 400, type: 'invalid_request_error' },
  unauthorized: { status: 401, type: 'authentication_error' },
  insufficient_credits: { status: 402, type: 'billing_error' },
  not_found: { status: 404, type: 'invalid_request_error' },
  method_not_allowed: { status: 405, type: 'invalid_request_error' },
  conflict: { status: 409, type: 'invalid_request_error' },
  payload_too_large: { status: 413, type: 'invalid_request_error' },
  unsupported_media_type: { status: 415, type: 'invalid_request_error' },
  idempotency_key_reused: { status: 422, type: 'invalid_request_error' },
  rate_limited: { status: 429, type: 'rate_limit_error' },
  internal_error: { status: 500, type: 'api_error' },
  provider_unavailable: { status: 503, type: 'api_error' },
  // The OpenAI-compatible routes (`/v1/images/…`) answer in OpenAI's statuses and codes, so its SDKs
  // raise their own error classes (RateLimitError, BadRequestError, InternalServerError).
  insufficient_quota: { status: 429, type: 'insufficient_quota' },
  moderation_blocked: { status: 400, type: 'invalid_request_error' },
  provider_error: { status: 502, type: 'api_error' },
  wait_timeout: { status: 504, type: 'api_error' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;
export type ErrorStatus = (typeof ERROR_CODES)[ErrorCode]['status'];

export interface ErrorDetail {
  path: string;
  message: string;
}

/**
 * The API's one error type. Thrown anywhere, serialised only by the app's error handler.
 * `message` is public; `cause` is logged, never sent.
 */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly param: string | null;
  readonly details: ErrorDetail[] | undefined;
  readonly headers: Record<string, string>;

  constructor(
    code: ErrorCode,
    message: string,
    options: { param?: string; details?: ErrorDetail[]; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'ApiError';
    this.code = code;
    this.param = options.param ?? null;
    this.details = options.details;
    this.headers = options.headers ?? {};
  }

  get status(): ErrorStatus {
    return ERROR_CODES[this.code].status;
  }

  /** The wire body of the contract's error envelope. */
  toBody(requestId: string): ErrorBody {
    return {
      error: {
        type: ERROR_CODES[this.code].type,
        code: this.code,
        message: this.message,
        param: this.param,
        ...(this.details ? { details: this.details } : {}),
        request_id: requestId,
      },
    };
  }
}

export const ErrorBodySchema = z
  .object({
    error: z.object({
      type: z.string(),
      code: z.enum(Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]]),
      message: z.string(),
      param: z.string().nullable(),
      details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
      request_id: z.string(),
    }),
  })
  .openapi('Error');

export type ErrorBody = z.infer<typeof ErrorBodySchema>;

/** Turns zod issues into the contract's `details`, naming each offending field by its dotted path. */
export function validationError(issues: readonly z.core.$ZodIssue[]): ApiError {
  const details: ErrorDetail[] = issues.flatMap((issue) => {
    const base = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        path: base ? `${base}.${key}` : key,
        message: 'unknown field',
      }));
    }
    if (!base && issue.code === 'invalid_type') return [{ path: '', message: 'the request body must be a JSON object' }];
    return [{ path: base, message: issue.message }];
  });
  const first = details[0] ?? { path: '', message: 'invalid request' };
  return new ApiError('invalid_request', first.path ? `${first.path}: ${first.message}` : first.message, {
    param: first.path || undefined,
    details,
  });
}
