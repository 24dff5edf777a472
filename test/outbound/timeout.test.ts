import { describe, expect, it } from 'vitest';
import { formatDuration, TimeoutError, withTimeout } from '../../src/outbound/timeout';

/** Work that fails the way workerd's `fetch` does when its signal aborts: a new plain Error with the reason's text. */
const likeWorkerdFetch = (signal: AbortSignal) =>
  new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(new Error(String(signal.reason)))));

describe('withTimeout', () => {
  it('throws its own TimeoutError when time is up, whatever the aborted work threw', async () => {
    const error = await withTimeout(20, likeWorkerdFetch).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ name: 'TimeoutError', message: 'timed out after 20 ms', ms: 20 });
  });

  it('lets the work’s own failure through when time is not up', async () => {
    const failure = new Error('connection refused');
    await expect(withTimeout(1_000, async () => Promise.reject(failure))).rejects.toBe(failure);
  });

  it('answers what the work answered', async () => {
    expect(await withTimeout(1_000, async () => 42)).toBe(42);
  });

  it('says durations as people do', () => {
    expect([formatDuration(10_000), formatDuration(20_000), formatDuration(100), formatDuration(1_500), formatDuration(50)]).toEqual([
      '10 s',
      '20 s',
      '0.1 s',
      '1.5 s',
      '50 ms',
    ]);
  });
});
