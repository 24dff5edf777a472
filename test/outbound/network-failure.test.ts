import { afterEach, describe, expect, it, vi } from 'vitest';
import { describeNetworkFailure } from '../../src/outbound/network-failure';
import { TimeoutError } from '../../src/outbound/timeout';
import { providerFetch } from '../../src/providers/http';

const WORKERD_INTERNAL = 'internal error; reference = 9a8b7c6d5e4f3g2h1i0j';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('describeNetworkFailure: our words for a call that got no answer', () => {
  it('says a timeout timed out, and how long it waited', () => {
    expect(describeNetworkFailure(new TimeoutError(10_000), {})).toBe('timed out after 10 s');
  });

  it("answers anything else as 'network error' and logs the runtime's words with the context, for operators", () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    expect(describeNetworkFailure(new Error(WORKERD_INTERNAL), { event: 'test', host: 'a.example.com' })).toBe('network error');
    expect(logged.mock.calls[0]?.[0]).toMatchObject({
      level: 'error',
      event: 'test',
      host: 'a.example.com',
      error: { message: WORKERD_INTERNAL },
    });
  });
});

describe('providerFetch', () => {
  it("keeps workerd's internal error text out of the retryable error a task may end with", async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const failing = (async () => {
      throw new Error(WORKERD_INTERNAL);
    }) as typeof fetch;
    const error = await providerFetch(failing, 'https://api.bfl.ai/v1/flux-2-pro', {}).catch((err: unknown) => err);
    expect((error as Error).message).toBe('network error calling api.bfl.ai');
  });

  it('says a provider that did not answer in time timed out', async () => {
    const hanging = ((_input: RequestInfo | URL, init?: RequestInit) =>
      new Promise((_, reject) => init!.signal!.addEventListener('abort', () => reject(new Error(String(init!.signal!.reason)))))) as typeof fetch;
    const error = await providerFetch(hanging, 'https://api.bfl.ai/v1/flux-2-pro', {}, 20).catch((err: unknown) => err);
    expect((error as Error).message).toBe('timed out after 20 ms calling api.bfl.ai');
  });
});
