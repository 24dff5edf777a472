/**
 * What one task's turn on a backend node came to, as the node's health counts it:
 * - `success`: the node delivered the result; `duration_ms` is from the accepted submit (or the
 *   synchronous call going out) to the result being in hand;
 * - `failure`: the node let the task down (it gave up after its tries on the node, a job the node
 *   accepted ended in the provider's own failure, the provider refused our key or credit, or the job
 *   was still at the node at the task's deadline);
 * - `neutral`: the node answered, but the answer was about the customer's request (moderation, a
 *   refused input): proof the node is up, but no part of its success rate.
 * A 429 is the provider's capacity, not its health, and counts as nothing.
 */
export type NodeOutcome = { kind: 'success'; duration_ms: number } | { kind: 'failure' } | { kind: 'neutral' };

/** One reported outcome, stamped with when it arrived and the model it was for. */
export interface Sample {
  at: number;
  model: string;
  kind: NodeOutcome['kind'];
  duration_ms: number | null;
}

/** Counts and duration percentiles of the samples in a window. */
export interface WindowStats {
  successes: number;
  failures: number;
  neutral: number;
  /** successes / (successes + failures); null when neither happened. */
  success_rate: number | null;
  p50_ms: number | null;
  p90_ms: number | null;
  p99_ms: number | null;
}

/** The nearest-rank percentile `p` (0–1) of ascending `sorted`; null for no values. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil(p * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] ?? null;
}

/** Summarises the samples that arrived at or after `since` (the window's start); older ones are ignored. */
export function summarize(samples: readonly Sample[], since: number): WindowStats {
  let successes = 0;
  let failures = 0;
  let neutral = 0;
  const durations: number[] = [];
  for (const sample of samples) {
    if (sample.at < since) continue;
    if (sample.kind === 'success') {
      successes++;
      if (sample.duration_ms !== null) durations.push(sample.duration_ms);
    } else if (sample.kind === 'failure') failures++;
    else neutral++;
  }
  durations.sort((a, b) => a - b);
  const decided = successes + failures;
  return {
    successes,
    failures,
    neutral,
    success_rate: decided === 0 ? null : successes / decided,
    p50_ms: percentile(durations, 0.5),
    p90_ms: percentile(durations, 0.9),
    p99_ms: percentile(durations, 0.99),
  };
}
