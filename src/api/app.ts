import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { createMiddleware } from 'hono/factory';
import { HTTPException } from 'hono/http-exception';
import { requestId as honoRequestId } from 'hono/request-id';
import type { AppEnv } from '../env';
import { randomBase62 } from '../ids';
import { ApiError, validationError } from '../errors';
import { log } from '../log';

export const MAX_BODY_BYTES = 64 * 1024;

/** `application/json` and its `+json` relatives, with or without parameters. */
const JSON_CONTENT_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/**
 * A router whose zod validation failures become the contract's 400 with `details`; every route
 * module builds on this so validation errors look the same everywhere.
 */
export function createRouter(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw validationError(result.error.issues);
    },
  });
}

/**
 * Hono's request-id middleware: keeps the BFF's `x-request-id` when it is 1 to 128 letters, digits,
 * `_`, `-` or `=`, and otherwise makes one (`req_` and 20 base62 characters); `c.get('requestId')`.
 */
const assignRequestId = honoRequestId({
  headerName: 'x-request-id',
  limitLength: 128,
  generator: () => `req_${randomBase62(20)}`,
});

/**
 * Gives every request an id and echoes it in `x-request-id`. Hono's middleware sets the header before
 * the route runs, where a route answering with its own `new Response(…)` (result files) loses it, so
 * it is set again on the way out.
 */
export const requestId = createMiddleware<AppEnv>(async (c, next) => {
  await assignRequestId(c, next);
  c.header('x-request-id', c.get('requestId'));
});

/**
 * Hono's body-limit middleware, answering in our envelope: a declared `content-length` over the limit
 * is refused unread, and a body without one (chunked) is counted as it streams in and refused at the
 * first byte over, so an endless body is never held in memory.
 */
const limitBody = bodyLimit({
  maxSize: MAX_BODY_BYTES,
  onError: () => {
    throw new ApiError('payload_too_large', `Request body exceeds ${MAX_BODY_BYTES} bytes.`);
  },
});

/**
 * Bodies are JSON and small: every route that takes one rejects an oversize body, a wrong content
 * type and malformed JSON the same way, in that order, after authentication; the text is cached by
 * Hono, so the validators parse it again without re-reading the stream. Routes that take no body
 * never read one, so a stray body changes nothing there. What an empty body means depends on the
 * route: `requiredJsonBody` or `optionalJsonBody` say it, and run this first.
 */
const jsonBody = createMiddleware<AppEnv>(async (c, next) => {
  return limitBody(c, async () => {
    const declared = Number(c.req.header('content-length') ?? '0');
    const hasBody = declared > 0 || c.req.header('transfer-encoding') !== undefined;
    if (!hasBody) return next();
    const type = c.req.header('content-type') ?? '';
    if (!JSON_CONTENT_TYPE.test(type)) {
      throw new ApiError('unsupported_media_type', 'Content-Type must be application/json.');
    }
    const text = await c.req.text();
    try {
      JSON.parse(text);
    } catch {
      throw new ApiError('invalid_json', 'Request body is not valid JSON.');
    }
    await next();
  });
});

/** A body that says it is JSON and is empty; Hono's validator would fail to parse it and throw its own 400. */
async function isEmptyJsonBody(c: Context<AppEnv>): Promise<boolean> {
  return JSON_CONTENT_TYPE.test(c.req.header('content-type') ?? '') && (await c.req.text()) === '';
}

/** Route middleware of a route whose JSON body is required: an empty one is `invalid_json`. */
export const requiredJsonBody = createMiddleware<AppEnv>(async (c, next) =>
  jsonBody(c, async () => {
    if (await isEmptyJsonBody(c)) throw new ApiError('invalid_json', 'Request body is empty; send a JSON object.');
    await next();
  }),
);

/**
 * Route middleware of a route whose JSON body is optional: an empty one is no body, exactly as when
 * no content type is sent (the route sees `{}`), so clients that always send
 * `content-type: application/json` are not punished for having nothing to say.
 */
export const optionalJsonBody = createMiddleware<AppEnv>(async (c, next) =>
  jsonBody(c, async () => {
    // Hono keeps its body cache as promises (its type says otherwise); the validator parses this text.
    if (await isEmptyJsonBody(c)) Object.assign(c.req.bodyCache, { text: Promise.resolve('{}') });
    await next();
  }),
);

/**
 * Hono's own exceptions (its validators' 400 for a body they cannot parse, the 415 of the OpenAPI
 * media-type gate) in our vocabulary: the framework turning down a request is the client's 4xx,
 * never our 500, even on a route that forgot `requiredJsonBody`.
 */
function fromHttpException(err: HTTPException): ApiError | null {
  switch (err.status) {
    case 400:
      return new ApiError('invalid_json', 'Request body is empty or not valid JSON.', { cause: err });
    case 413:
      return new ApiError('payload_too_large', `Request body exceeds ${MAX_BODY_BYTES} bytes.`, { cause: err });
    case 415:
      return new ApiError('unsupported_media_type', 'Content-Type must be application/json.', { cause: err });
    default:
      return null;
  }
}

/**
 * A route's path as a pattern over request paths, matching exactly what the router matches: Hono routes
 * strictly, so `/api/v1/tasks/` is not `/api/v1/tasks`, and a trailing slash here would answer
 * `GET /api/v1/tasks/` with "405, Allow: GET" (found by test/fuzz) instead of 404.
 */
function compile(path: string): RegExp {
  const pattern = path
    .split('/')
    .map((part) => (part.startsWith(':') || part.startsWith('{') ? '[^/]+' : part.replace(/[.*+?^$()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${pattern}$`);
}

/** Installs the error handler and the 404/405 answers; call once, on the root app, after mounting routes. */
export function installErrorHandling(app: OpenAPIHono<AppEnv>): void {
  app.notFound((c) => {
    const path = c.req.path;
    const allowed = new Set(
      app.routes.filter((r) => r.method !== 'ALL' && compile(r.path).test(path)).map((r) => r.method),
    );
    if (allowed.size > 0) {
      throw new ApiError('method_not_allowed', `${c.req.method} is not allowed on ${path}.`, {
        headers: { allow: [...allowed].join(', ') },
      });
    }
    throw new ApiError('not_found', `No route for ${c.req.method} ${path}.`);
  });

  app.onError((err, c) => {
    const id = c.get('requestId') ?? `req_${randomBase62(20)}`;
    let error = err instanceof ApiError ? err : err instanceof HTTPException ? fromHttpException(err) : null;
    if (!error) {
      log.error('unhandled_error', { request_id: id }, err);
      error = new ApiError('internal_error', 'An unexpected error occurred.');
    } else if (error.status === 500 || (error.status > 500 && error.cause !== undefined)) {
      // Ours, not the client's: the cause (never sent) is what explains it. A 502 or 504 without one is
      // an answer the route chose (a provider failed, a wait ran out), told by the request line.
      log.error('server_error', { request_id: id, code: error.code }, error);
    }
    for (const [name, value] of Object.entries(error.headers)) c.header(name, value);
    c.header('x-request-id', id);
    return c.json(error.toBody(id), error.status);
  });
}
