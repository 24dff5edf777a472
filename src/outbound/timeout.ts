/** Thrown by `withTimeout` when its time is up; callers tell a timeout from other failures with `instanceof`. */
export class TimeoutError extends Error {
  override name = 'TimeoutError';

  constructor(readonly ms: number) {
    super(`timed out after ${formatDuration(ms)}`);
  }
}

/** `10 s`, `0.1 s`, `250 ms`: how the public messages say a duration. */
export function formatDuration(ms: number): string {
  return ms >= 100 ? `${Number((ms / 1000).toFixed(1))} s` : `${ms} ms`;
}

/**
 * Runs `work` with a signal that aborts after `ms`. Unlike `AbortSignal.timeout`, the timer is
 * cleared as soon as `work` settles: a pending timer keeps a Durable Object busy (and billed), and
 * stops it from being evicted, long after the call it guarded has ended.
 *
 * When the time is up it throws its own `TimeoutError`, whatever `work` threw: workerd's `fetch`
 * does not reject with the abort reason itself but with a new plain `Error` whose message is the
 * reason's text (`Error: TimeoutError: …`), so neither `instanceof` nor `name` would recognise it.
 */
export async function withTimeout<T>(ms: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const timeout = new TimeoutError(ms);
  const timer = setTimeout(() => controller.abort(timeout), ms);
  try {
    return await work(controller.signal);
  } catch (err) {
    throw controller.signal.aborted ? timeout : err;
  } finally {
    clearTimeout(timer);
  }
}
