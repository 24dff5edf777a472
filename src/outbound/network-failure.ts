import { log } from '../log';
import { TimeoutError } from './timeout';

/**
 * Our words for an outbound call that got no HTTP answer: `timed out after 10 s`, or `network error`.
 * What the runtime said (workerd's `internal error; reference = …`, `Network connection lost.`) is
 * for operators: it goes to one JSON log line with `context`, never into a task or webhook a
 * customer reads, where it would explain nothing and show how our platform fails.
 */
export function describeNetworkFailure(err: unknown, context: Record<string, unknown>): string {
  if (err instanceof TimeoutError) return err.message;
  log.error(typeof context.event === 'string' ? context.event : 'network_failure', context, err);
  return 'network error';
}
