import type { Env } from '../env';
import { ApiError } from './errors';

/** Why a URL may not be fetched or called back, or null if it may. */
export function outboundUrlProblem(raw: string, env: Env): string | null {
  const url = new URL(raw);
  if (url.username || url.password) return 'must not contain credentials';
  const loopback = url.hostname === 'localhost' || url.hostname === '127.0.0.1' || url.hostname === '[::1]';
  if (env.ENVIRONMENT === 'development' && loopback) return null;
  if (url.protocol !== 'https:') return 'must be an https URL';
  if (loopback) return 'must point at a public host';
  return null;
}

/**
 * Checks every URL the Worker will later fetch or call for a request (`callback_url`,
 * `input_urls`), naming the offending field; the zod schemas have already checked their shape.
 */
export function assertOutboundUrls(request: Record<string, unknown>, env: Env): void {
  const fields: [string, unknown][] = [['callback_url', request.callback_url]];
  if (Array.isArray(request.input_urls)) {
    request.input_urls.forEach((url, i) => fields.push([`input_urls.${i}`, url]));
  }
  const details = fields.flatMap(([path, value]) => {
    const problem = typeof value === 'string' ? outboundUrlProblem(value, env) : null;
    return problem ? [{ path, message: problem }] : [];
  });
  const first = details[0];
  if (first) {
    throw new ApiError('invalid_request', `${first.path}: ${first.message}`, { param: first.path, details });
  }
}
