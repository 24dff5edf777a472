/** Thrown through a timed-out call's signal; its name lets callers tell a timeout from other failures. */
export class TimeoutError extends Error {
  override name = 'TimeoutError';
}

/**
 * Runs `work` with a signal that aborts after `ms`. Unlike `AbortSignal.timeout`, the timer is
 * cleared as soon as `work` settles: a pending timer keeps a Durable Object busy (and billed), and
 * stops it from being evicted, long after the call it guarded has ended.
 */
export async function withTimeout<T>(ms: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new TimeoutError(`timed out after ${ms} ms`)), ms);
  try {
    return await work(controller.signal);
  } finally {
    clearTimeout(timer);
  }
}
