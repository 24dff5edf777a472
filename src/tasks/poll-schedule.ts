/**
 * When to read an async job's status next: around the time the job is likely to end, from the recent
 * durations of the same model on the same backend node, instead of a blind exponential. Pure: the
 * machine calls it with what the record holds (the hints came in with the accepted submit).
 *
 * - No known durations: today's backoff, `POLL_INITIAL_MS` growing by half each poll up to `POLL_MAX_MS`.
 * - Known durations, no callback: nothing before the likely window opens (about the 10th percentile
 *   of recent jobs, at the latest `OPEN_SHARE` of the median), then a poll every `WINDOW_STEP_SHARE` of the median until past the 90th
 *   percentile, then polls thinning in proportion to how late the job runs, up to `POLL_MAX_MS`. A job
 *   ending inside the window is seen on average half a step (2% of the median) after it ended.
 * - A callback expected: the callback makes the poll due at once (task-machine.ts), so polls are only
 *   the safety net for a lost one: at the 90th percentile of recent jobs and every `POLL_MAX_MS` (with
 *   no known durations, today's backoff). A lost callback costs at most `POLL_MAX_MS`, and the net does
 *   not feed on itself: a job a safety poll finds ended is recorded at that poll, so a net drawn from a
 *   multiple of the recent durations would widen with each turn of the history.
 * Never closer together than the provider asks (`min_interval_ms`, its published minimum).
 */

/** Recent durations (accepted submit → result in hand) of one model on one node. */
export interface DurationEstimate {
  p50_ms: number;
  p90_ms: number;
  /** How many jobs the figures come from. */
  samples: number;
}

/** What the schedule knows about one job, fixed when its submit was accepted. */
export interface PollHints {
  /** Null while too few recent jobs are known (`MIN_SAMPLES`). */
  expected: DurationEstimate | null;
  /** The provider was asked to call us back when the job ends. */
  callback: boolean;
  /** The shortest interval between status reads the provider publishes; 0 when it publishes none. */
  min_interval_ms: number;
}

export interface ScheduleSettings {
  pollInitialMs: number;
  pollMaxMs: number;
}

/** Fewer recent jobs than this say too little about the next one. */
export const MIN_SAMPLES = 5;
/** The interval between polls inside the likely window, as a share of the median duration. */
export const WINDOW_STEP_SHARE = 0.04;
/**
 * The window opens at the latest at this share of the median. Durations are recorded when a poll
 * sees the job done, so a history gathered while polling late (the plain backoff, a loaded
 * runtime) runs long; a window opening well before the median still sees most jobs end inside it,
 * whose durations are then recorded within a step, and the estimate comes back down in one turn
 * of the history instead of creeping down a step at a time.
 */
export const OPEN_SHARE = 0.7;

/** Recent durations as the schedule reads them: null below `MIN_SAMPLES` or when the figures are missing. */
export function durationEstimate(stats: { successes: number; p50_ms: number | null; p90_ms: number | null } | undefined): DurationEstimate | null {
  if (!stats || stats.successes < MIN_SAMPLES || stats.p50_ms === null || stats.p90_ms === null) return null;
  return { p50_ms: stats.p50_ms, p90_ms: Math.max(stats.p50_ms, stats.p90_ms), samples: stats.successes };
}

/**
 * Milliseconds from now to the next poll of a job accepted `elapsedMs` ago and polled `polls` times
 * since. Always at least 1.
 */
export function nextPollDelay(elapsedMs: number, polls: number, hints: PollHints | null | undefined, settings: ScheduleSettings): number {
  const floor = Math.max(1, hints?.min_interval_ms ?? 0);
  const { pollInitialMs, pollMaxMs } = settings;
  const expected = hints?.expected;
  if (!expected) return Math.round(Math.max(floor, Math.min(pollMaxMs, pollInitialMs * 1.5 ** polls)));
  const { p50_ms: p50, p90_ms: p90 } = expected;
  if (hints.callback) return Math.round(Math.max(floor, elapsedMs < p90 ? Math.min(p90 - elapsedMs, pollMaxMs) : pollMaxMs));
  const step = Math.max(floor, Math.min(pollMaxMs, Math.round(p50 * WINDOW_STEP_SHARE)));
  // Log-normal durations are symmetric in log space, so the 10th percentile mirrors the 90th around the median.
  const p10 = p90 > 0 ? (p50 * p50) / p90 : 0;
  const opens = Math.round(Math.min(p10 - step, OPEN_SHARE * p50));
  if (elapsedMs < opens) return Math.round(Math.max(floor, opens - elapsedMs));
  if (elapsedMs <= p90 + step) return step;
  return Math.round(Math.max(step, Math.min(pollMaxMs, (elapsedMs - p90) / 2)));
}
