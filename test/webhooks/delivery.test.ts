import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { Env } from '../../src/env';
import { attemptDelivery, initialWebhookState, PRODUCTION_RETRY_SCHEDULE_S, retrySchedule } from '../../src/webhooks/delivery';
import { deliveries, receiver } from './receiver';

const headers = { 'webhook-id': 'msg_test', 'webhook-timestamp': '1', 'webhook-signature': 'v1,x' };
const body = '{"task_id":"task_x"}';
const fresh = (url: string) => initialWebhookState(url, Date.now());

describe('retrySchedule', () => {
  const withSchedule = (value: string) => retrySchedule({ ...env, WEBHOOK_RETRY_SCHEDULE: value } as Env);

  it('reads comma-separated seconds, and falls back to production when empty or malformed', () => {
    expect(withSchedule('1, 2,4')).toEqual([1, 2, 4]);
    expect(withSchedule('')).toEqual(PRODUCTION_RETRY_SCHEDULE_S);
    expect(withSchedule('1,soon')).toEqual(PRODUCTION_RETRY_SCHEDULE_S);
    expect(PRODUCTION_RETRY_SCHEDULE_S).toEqual([5, 300, 1800, 7200, 18000, 36000, 36000]);
  });
});

describe('attemptDelivery', () => {
  it('POSTs the body and headers as given and is delivered on a 2xx', async () => {
    const hook = receiver();
    const after = await attemptDelivery(env, fresh(hook.url), headers, body);
    expect(after).toMatchObject({ status: 'delivered', attempts: 1, last_status_code: 204, last_error: null, next_attempt_at: null });
    const [got] = await deliveries(hook.name);
    expect(got!.body).toBe(body);
    expect(got!.headers).toMatchObject({ ...headers, 'content-type': 'application/json' });
  });

  it('schedules the next try after a 5xx, from the configured schedule', async () => {
    const hook = receiver('status=503');
    const before = Date.now();
    const after = await attemptDelivery(env, fresh(hook.url), headers, body);
    expect(after).toMatchObject({ status: 'pending', attempts: 1, last_status_code: 503, last_error: 'receiver answered 503' });
    expect(Date.parse(after.next_attempt_at!)).toBeGreaterThanOrEqual(before + retrySchedule(env)[0]! * 1000);
  });

  it('gives up once the schedule is used up', async () => {
    const hook = receiver('status=500');
    const schedule = retrySchedule(env);
    const last = { ...fresh(hook.url), attempts: schedule.length };
    expect(await attemptDelivery(env, last, headers, body)).toMatchObject({
      status: 'failed',
      attempts: schedule.length + 1,
      last_status_code: 500,
      next_attempt_at: null,
    });
  });

  it('stops at once on 410 Gone', async () => {
    const hook = receiver('status=410');
    expect(await attemptDelivery(env, fresh(hook.url), headers, body)).toMatchObject({
      status: 'failed',
      attempts: 1,
      last_status_code: 410,
      next_attempt_at: null,
    });
  });

  it('counts a redirect as a failure and does not follow it', async () => {
    const hook = receiver('status=302');
    const after = await attemptDelivery(env, fresh(hook.url), headers, body);
    expect(after).toMatchObject({ status: 'pending', last_status_code: 302 });
    expect(after.last_error).toContain('redirect');
    expect(await deliveries(`${hook.name}-redirected`)).toEqual([]);
  });

  it('counts a timeout as a failure', async () => {
    const hook = receiver('delay=2000');
    const after = await attemptDelivery(env, fresh(hook.url), headers, body, 100);
    expect(after).toMatchObject({ status: 'pending', attempts: 1, last_status_code: null });
    expect(after.last_error).toContain('timed out');
  });

  it('counts a refused connection as a failure', async () => {
    const after = await attemptDelivery(env, fresh('http://127.0.0.1:9/hook'), headers, body);
    expect(after).toMatchObject({ status: 'pending', attempts: 1, last_status_code: null });
    expect(after.last_error).toContain('network error');
  });
});
