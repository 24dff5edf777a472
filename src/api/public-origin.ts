import type { Context } from 'hono';
import type { AppEnv, Env } from '../env';
import { ApiError } from '../errors';
import { log } from '../log';

/** The origin of result URLs, or what is wrong with the configuration, naming the variable. */
export type PublicOrigin = { ok: true; origin: string } | { ok: false; problem: string };

/** `https://images.example.com` (a trailing slash is fine); no path, query, fragment or credentials. */
function asOrigin(raw: string): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  const web = url.protocol === 'https:' || url.protocol === 'http:';
  const bare = url.pathname === '/' && !url.search && !url.hash && !url.username && !url.password;
  return web && bare ? url.origin : null;
}

/**
 * The origin of the result URLs a new task will hand out. It comes from `PUBLIC_BASE_URL`: the
 * request's own origin is built from its Host header, which the client sets, so a forged Host
 * would give a customer links to someone else's domain. Only development, where the Worker runs
 * on whatever port `wrangler dev` chose, may leave the variable empty and use the request's origin.
 */
export function publicOrigin(env: Pick<Env, 'ENVIRONMENT' | 'PUBLIC_BASE_URL'>, requestUrl: string): PublicOrigin {
  const configured = env.PUBLIC_BASE_URL.trim();
  if (configured) {
    const origin = asOrigin(configured);
    return origin
      ? { ok: true, origin }
      : { ok: false, problem: `PUBLIC_BASE_URL must be an absolute http(s) origin such as https://images.example.com, not ${JSON.stringify(configured)}` };
  }
  if (env.ENVIRONMENT === 'development') return { ok: true, origin: new URL(requestUrl).origin };
  return {
    ok: false,
    problem: `PUBLIC_BASE_URL is empty: outside development (ENVIRONMENT is ${JSON.stringify(env.ENVIRONMENT)}) it must be the public origin of result URLs`,
  };
}

/**
 * The origin for a task the request is about to create; a misconfiguration is the deployment's fault,
 * not the customer's: refused before any credits move, and the log tells the operator what to set.
 */
export function requirePublicOrigin(c: Context<AppEnv>): string {
  const origin = publicOrigin(c.env, c.req.url);
  if (origin.ok) return origin.origin;
  log.error('misconfigured', { request_id: c.get('requestId'), problem: origin.problem });
  throw new ApiError('internal_error', 'The service is misconfigured and cannot create tasks right now; no credits were charged.');
}
