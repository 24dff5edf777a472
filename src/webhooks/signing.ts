import type { Env } from '../env';

/** Headers of one delivery attempt; `webhook-id` stays the same across retries of a delivery. */
export async function webhookHeaders(
  _env: Env,
  _accountId: string,
  webhookId: string,
  _body: string,
  nowMs: number,
): Promise<Record<string, string>> {
  return { 'webhook-id': webhookId, 'webhook-timestamp': String(Math.floor(nowMs / 1000)) };
}
