import type { Env } from '../env';
import type { WebhookState } from '../tasks/task.schema';

/** Seconds between attempts in production (after the first, immediate one), then give up. */
export const PRODUCTION_RETRY_SCHEDULE_S = [5, 300, 1800, 7200, 18000, 36000, 36000];
const DELIVERY_TIMEOUT_MS = 10_000;

/** The retry schedule in force: `WEBHOOK_RETRY_SCHEDULE` (comma-separated seconds) or production's. */
export function retrySchedule(env: Env): number[] {
  const raw = env.WEBHOOK_RETRY_SCHEDULE.trim();
  if (!raw) return PRODUCTION_RETRY_SCHEDULE_S;
  const parsed = raw.split(',').map((s) => Number(s.trim()));
  return parsed.every((n) => Number.isFinite(n) && n >= 0) ? parsed : PRODUCTION_RETRY_SCHEDULE_S;
}

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

/**
 * Makes one delivery attempt of a signed task payload and returns the webhook state after it: delivered on a 2xx,
 * failed at once on 410 Gone or when the schedule is used up, otherwise pending with the next time.
 */
export async function attemptDelivery(
  env: Env,
  state: WebhookState,
  headers: Record<string, string>,
  body: string,
  now: number,
): Promise<WebhookState> {
  const attempts = state.attempts + 1;
  let statusCode: number | null = null;
  let error: string | null = null;
  try {
    const response = await fetch(state.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'image-gateway-webhooks/1', ...headers },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
    });
    statusCode = response.status;
    await response.body?.cancel();
    if (response.status >= 200 && response.status < 300) {
      return { ...state, status: 'delivered', attempts, last_status_code: statusCode, last_error: null, next_attempt_at: null };
    }
    error = `receiver answered ${response.status}`;
  } catch (err) {
    error = err instanceof Error && err.name === 'TimeoutError' ? 'timed out' : `network error: ${String(err)}`;
  }
  const schedule = retrySchedule(env);
  const delay = schedule[attempts - 1];
  const gone = statusCode === 410;
  if (gone || delay === undefined) {
    return { ...state, status: 'failed', attempts, last_status_code: statusCode, last_error: gone ? 'receiver answered 410 Gone' : error, next_attempt_at: null };
  }
  return {
    ...state,
    status: 'pending',
    attempts,
    last_status_code: statusCode,
    last_error: error,
    next_attempt_at: new Date(now + delay * 1000).toISOString(),
  };
}
