import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { matchedRoutes } from 'hono/route';
import type { AppEnv } from '../env';
import { ApiError } from '../errors';
import { log } from '../log';

/**
 * The route a request reached, as the OpenAPI document names it (`/api/v1/tasks/{task_id}`), never the
 * raw path: ids stay out of the logs (a file id is the capability to its image) and one route is one
 * value to group by. The endpoint is the route that answered, or, when a middleware of the route
 * refused first (authentication), the route it stood in front of; null when no route matched (404, 405).
 */
export function routeOf(c: Context<AppEnv>): string | null {
  const routes = matchedRoutes(c);
  const answered = routes[c.req.routeIndex];
  const endpoint = answered && answered.method !== 'ALL' ? answered : routes.find((r) => r.method !== 'ALL');
  return endpoint ? endpoint.path.replace(/:(\w+)(\{[^}]*\})?/g, '{$1}') : null;
}

/**
 * One `request` log line per request, once its answer is ready (for an event stream: its headers):
 * time, request id, the account when a customer key was presented, route, method, status, latency and,
 * for errors, their code. 5xx lines are logged as errors (the error itself, with its cause, is logged
 * by the app's error handler beside it). Mount it before the other root middleware: an error thrown by
 * the innermost one is answered at its level, and the line is written only after that.
 */
export const logRequests = createMiddleware<AppEnv>(async (c, next) => {
  const started = Date.now();
  await next();
  const status = c.res.status;
  const fields = {
    request_id: c.get('requestId'),
    account_id: c.get('accountId') ?? null,
    route: routeOf(c),
    method: c.req.method,
    status,
    // Workers advance the clock only across I/O, so this is the time spent waiting on storage and networks.
    latency_ms: Date.now() - started,
    ...(c.error instanceof ApiError ? { error_code: c.error.code } : {}),
  };
  // A 500 is a fault of ours; a 502, 503 or 504 names a provider or a wait that ran out.
  if (status === 500) log.error('request', fields);
  else if (status > 500) log.warn('request', fields);
  else log.info('request', fields);
});
