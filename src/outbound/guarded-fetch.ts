import { type OutboundUrlOptions, outboundUrlProblem } from './url-guard';

/** More hops than any honest image host needs (a CDN or a short-link service uses one or two). */
export const MAX_REDIRECTS = 3;

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** A redirect the Worker refused to follow; the message is public words, fit for a task's error. */
export class RedirectRefusedError extends Error {
  override name = 'RedirectRefusedError';
}

/** Error messages quote a customer's URL, not a customer's essay. */
function shorten(url: string): string {
  return url.length > 200 ? `${url.slice(0, 200)}…` : url;
}

/**
 * `fetch` of a URL a customer gave us (already checked by the URL guard) that follows redirects by
 * hand, at most `MAX_REDIRECTS`, checking every `Location` with the same guard. The platform's own
 * redirect following would take the request to whatever the customer's server names next, which
 * is how `http://0.0.0.0:…` or a metadata address would get past a guard that saw only the first URL.
 *
 * Only for GET requests (every hop is a GET with the same headers). Throws `RedirectRefusedError`
 * when a hop is refused; a 3xx without `Location` is returned as it is.
 */
export async function fetchFollowingCheckedRedirects(
  fetchFn: typeof fetch,
  url: string,
  init: RequestInit,
  guard: OutboundUrlOptions,
): Promise<Response> {
  let current = url;
  for (let hops = 0; ; hops++) {
    const response = await fetchFn(current, { ...init, method: 'GET', redirect: 'manual' });
    const location = REDIRECT_STATUSES.has(response.status) ? response.headers.get('location') : null;
    if (location === null) return response;
    await response.body?.cancel();
    if (hops === MAX_REDIRECTS) throw new RedirectRefusedError(`redirected more than ${MAX_REDIRECTS} times`);
    let next: string;
    try {
      next = new URL(location, current).toString();
    } catch {
      throw new RedirectRefusedError('redirected to a malformed URL');
    }
    const problem = outboundUrlProblem(next, guard);
    if (problem) throw new RedirectRefusedError(`redirected to ${shorten(next)}, which ${problem}`);
    current = next;
  }
}
