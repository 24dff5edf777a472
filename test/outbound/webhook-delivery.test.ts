import { afterEach, describe, expect, it, vi } from 'vitest';
import { DELIVERY_TIMEOUT_MS, postWebhook } from '../../src/outbound/webhook-delivery';
import { deliveries, receiver } from '../receiver';

const headers = { 'webhook-id': 'msg_test', 'webhook-timestamp': '1', 'webhook-signature': 'v1,x' };
const body = '{"task_id":"task_x"}';

describe('postWebhook', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('POSTs the body and headers as given and is delivered on a 2xx', async () => {
    const hook = receiver();
    const after = await postWebhook(hook.url, headers, body);
    expect(after).toEqual({ statusCode: 204, error: null });
    const [got] = await deliveries(hook.name);
    expect(got!.body).toBe(body);
    expect(got!.headers).toMatchObject({ ...headers, 'content-type': 'application/json' });
  });

  it('says what a receiver answered with another status', async () => {
    expect(await postWebhook(receiver('status=503').url, headers, body)).toEqual({ statusCode: 503, error: 'receiver answered 503' });
    expect(await postWebhook(receiver('status=410').url, headers, body)).toEqual({ statusCode: 410, error: 'receiver answered 410' });
  });

  it('counts a redirect as a failure and does not follow it', async () => {
    const hook = receiver('status=302');
    const after = await postWebhook(hook.url, headers, body);
    expect(after.statusCode).toBe(302);
    expect(after.error).toContain('redirect');
    expect(await deliveries(`${hook.name}-redirected`)).toEqual([]);
  });

  it('counts a timeout as a failure and says it timed out, not that the network failed', async () => {
    const hook = receiver('delay=2000');
    const after = await postWebhook(hook.url, headers, body, 100);
    expect(after).toEqual({ statusCode: null, error: 'timed out after 0.1 s' });
  });

  it('says "timed out after 10 s" at the production timeout', async () => {
    vi.spyOn(globalThis, 'fetch').mockImplementationOnce(
      // What workerd does when the signal aborts: rejects with a new plain Error carrying the reason's text.
      (_input, init) => new Promise((_, reject) => init!.signal!.addEventListener('abort', () => reject(new Error(String(init!.signal!.reason))))),
    );
    vi.useFakeTimers();
    try {
      const attempt = postWebhook('https://hooks.example.com/slow', headers, body);
      await vi.advanceTimersByTimeAsync(DELIVERY_TIMEOUT_MS);
      expect((await attempt).error).toBe('timed out after 10 s');
    } finally {
      vi.useRealTimers();
    }
  });

  it('counts a refused connection as a failure', async () => {
    const after = await postWebhook('http://127.0.0.1:9/hook', headers, body);
    expect(after).toEqual({ statusCode: null, error: 'network error' });
  });

  it("keeps workerd's own error text out of last_error and logs it for operators instead", async () => {
    const detail = 'internal error; reference = 5h2k8q0pm1c3tvu9rfb6a7ln';
    vi.spyOn(globalThis, 'fetch').mockRejectedValueOnce(new Error(detail));
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    const after = await postWebhook('https://hooks.example.com/x', headers, body);
    expect(after).toEqual({ statusCode: null, error: 'network error' });
    expect(logged.mock.calls.at(-1)?.[0]).toMatchObject({
      level: 'error',
      event: 'webhook_delivery_failed',
      host: 'hooks.example.com',
      error: { message: detail },
    });
  });
});
