import { describeNetworkFailure } from './network-failure';
import { withTimeout } from './timeout';

/** How long a receiver has to answer one attempt. */
export const DELIVERY_TIMEOUT_MS = 10_000;

/** What one POST to a receiver came to: its status (`error` null on a 2xx), or no answer at all. */
export type AttemptResult = { statusCode: number; error: string | null } | { statusCode: null; error: string };

/**
 * POSTs one signed webhook, without following redirects, and says how it went in words a customer
 * may read (`receiver answered 503`, `timed out after 10 s`, `network error`).
 */
export async function postWebhook(
  url: string,
  headers: Record<string, string>,
  body: string,
  timeoutMs = DELIVERY_TIMEOUT_MS,
): Promise<AttemptResult> {
  try {
    const status = await withTimeout(timeoutMs, async (signal) => {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'image-gateway-webhooks/1', ...headers },
        body,
        // A redirect is a failure, not a new destination: following it would skip the URL checks.
        redirect: 'manual',
        signal,
      });
      await response.body?.cancel();
      return response.status;
    });
    if (status >= 200 && status < 300) return { statusCode: status, error: null };
    if (status >= 300 && status < 400) return { statusCode: status, error: `receiver answered ${status}; redirects are not followed` };
    return { statusCode: status, error: `receiver answered ${status}` };
  } catch (err) {
    // `timed out after 10 s` or `network error`: the runtime's own words go to the log only.
    return { statusCode: null, error: describeNetworkFailure(err, { event: 'webhook_delivery_failed', host: new URL(url).host }) };
  }
}
