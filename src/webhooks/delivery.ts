import type { Env } from '../env';
import { withTimeout } from '../http/timeout';
import type { WebhookState } from '../tasks/task.schema';

/** Seconds between attempts in production (after the first, immediate one), then give up. */
export const PRODUCTION_RETRY_SCHEDULE_S = [5, 300, 1800, 7200, 18000, 36000, 36000];
/** How long a receiver has to answer one attempt. */
export const DELIVERY_TIMEOUT_MS = 10_000;

/** The retry schedule in force: `WEBHOOK_RETRY_SCHEDULE` (comma-separated seconds) or production's. */
export function retrySchedule(env: Env): number[] {
  const raw = env.WEBHOOK_RETRY_SCHEDULE.trim();
  if (!raw) return PRODUCTION_RETRY_SCHEDULE_S;
  const parsed = raw.split(',').map((s) => Number(s.trim()));
  return parsed.every((n) => Number.isFinite(n) && n >= 0) ? parsed : PRODUCTION_RETRY_SCHEDULE_S;
}

/** A delivery that has not been tried yet, due at `now`. */
export function initialWebhookState(url: string, now: number): WebhookState {
  return {
    url,
    status: 'pending',
    attempts: 0,
    last_status_code: null,
    last_error: null,
    next_attempt_at: new Date(now).toISOString(),
  };
}

type AttemptResult = { statusCode: number; error: string | null } | { statusCode: null; error: string };

async function post(url: string, headers: Record<string, string>, body: string, timeoutMs: number): Promise<AttemptResult> {
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
    const timedOut = err instanceof Error && err.name === 'TimeoutError';
    return { statusCode: null, error: timedOut ? `timed out after ${timeoutMs / 1000} s` : `network error: ${String(err)}` };
  }
}

/**
 * Makes one delivery attempt of a signed task payload and returns the webhook state after it: delivered on a 2xx,
 * failed at once on 410 Gone or when the schedule is used up, otherwise pending with the time of the next try
 * (counted from the end of this attempt, so a slow receiver does not eat into the wait).
 */
export async function attemptDelivery(
  env: Env,
  state: WebhookState,
  headers: Record<string, string>,
  body: string,
  timeoutMs = DELIVERY_TIMEOUT_MS,
): Promise<WebhookState> {
  const attempts = state.attempts + 1;
  const { statusCode, error } = await post(state.url, headers, body, timeoutMs);
  const after = { ...state, attempts, last_status_code: statusCode, last_error: error };
  if (error === null) return { ...after, status: 'delivered', next_attempt_at: null };
  if (statusCode === 410) return { ...after, status: 'failed', last_error: 'receiver answered 410 Gone; not retried', next_attempt_at: null };
  const delay = retrySchedule(env)[attempts - 1];
  if (delay === undefined) return { ...after, status: 'failed', next_attempt_at: null };
  return { ...after, status: 'pending', next_attempt_at: new Date(Date.now() + delay * 1000).toISOString() };
}
