import type { NodeOutcome } from './window';

/**
 * A backend node's circuit breaker, as pure functions of its state, what happened and the time.
 *
 *   closed ──FAILURES_TO_OPEN consecutive failures, or a failure rate ≥ FAILURE_RATE_TO_OPEN over
 *            at least MIN_SAMPLES_FOR_RATE outcomes since it last closed──▶ open
 *   open ──cool-down over──▶ half-open: the first task to ask becomes the probe; the others are refused
 *   half-open ──the probe (or any task) succeeds, or the node answers at all (neutral)──▶ closed
 *   open | half-open ──a failure──▶ open again, for a whole cool-down
 *
 * An open node takes no new work: a model with another node sends its tasks there at once, and a
 * task with no node left fails `provider_unavailable` at once (see the task machine), instead of
 * each task spending its tries on a node that is down.
 */
export interface Breaker {
  state: 'closed' | 'open';
  consecutive_failures: number;
  /** When it last opened (or failed again while open); null while closed. */
  opened_at: number | null;
  /** When it last changed state: the failure rate counts outcomes from then on. */
  since: number;
  /** The task admitted to try the node once its cool-down is over, and until when that lasts. */
  probe: { task_id: string; until: number } | null;
}

export interface BreakerSettings {
  cooldownMs: number;
}

/** Consecutive failures that open a closed breaker. Each is a task that gave up on the node, not one try. */
export const FAILURES_TO_OPEN = 5;
/** Failure rate that opens a closed breaker once it has MIN_SAMPLES_FOR_RATE outcomes to judge by. */
export const FAILURE_RATE_TO_OPEN = 0.5;
export const MIN_SAMPLES_FOR_RATE = 20;
/**
 * How long a probe holds the node before another task may probe it: a probe whose task ended
 * without an outcome (canceled, or moved on for a 429) must not keep the node out for good.
 */
export const PROBE_LEASE_MS = 60_000;

export const CLOSED: Breaker = { state: 'closed', consecutive_failures: 0, opened_at: null, since: 0, probe: null };

/** What the product page and the models route call the breaker's state at `now`. */
export type NodeState = 'closed' | 'open' | 'half_open';

export function nodeState(breaker: Breaker, now: number, settings: BreakerSettings): NodeState {
  if (breaker.state === 'closed') return 'closed';
  return now < reopensAt(breaker, settings) ? 'open' : 'half_open';
}

/** When an open breaker lets a probe through. */
export function reopensAt(breaker: Breaker, settings: BreakerSettings): number {
  return (breaker.opened_at ?? 0) + settings.cooldownMs;
}

/** Whether a task may use the node now: `go` (closed), `probe` (it is the half-open probe), or refused until `retry_at`. */
export type Admission = { verdict: 'go' } | { verdict: 'probe' } | { verdict: 'refused'; retry_at: number };

export function admit(
  breaker: Breaker,
  taskId: string,
  now: number,
  settings: BreakerSettings,
): { admission: Admission; breaker: Breaker } {
  switch (nodeState(breaker, now, settings)) {
    case 'closed':
      return { admission: { verdict: 'go' }, breaker };
    case 'open':
      return { admission: { verdict: 'refused', retry_at: reopensAt(breaker, settings) }, breaker };
    case 'half_open': {
      const { probe } = breaker;
      // The probe's own retries on the node are still the probe.
      if (probe?.task_id === taskId) return { admission: { verdict: 'probe' }, breaker };
      if (probe && probe.until > now) return { admission: { verdict: 'refused', retry_at: probe.until }, breaker };
      return { admission: { verdict: 'probe' }, breaker: { ...breaker, probe: { task_id: taskId, until: now + PROBE_LEASE_MS } } };
    }
  }
}

/**
 * The breaker after an outcome. `sinceChange` counts the outcomes since the breaker last changed
 * state, this one included: the failure rate is judged on them only, so a node that was just
 * closed is not opened again by the failures that opened it before.
 */
export function record(
  breaker: Breaker,
  outcome: NodeOutcome['kind'],
  sinceChange: { successes: number; failures: number },
  now: number,
): Breaker {
  if (outcome !== 'failure') {
    return breaker.state === 'closed' && breaker.consecutive_failures === 0
      ? breaker
      : { state: 'closed', consecutive_failures: 0, opened_at: null, since: breaker.state === 'closed' ? breaker.since : now, probe: null };
  }
  const consecutive_failures = breaker.consecutive_failures + 1;
  if (breaker.state === 'open') return { ...breaker, consecutive_failures, opened_at: now, probe: null };
  const decided = sinceChange.successes + sinceChange.failures;
  const tooMany =
    consecutive_failures >= FAILURES_TO_OPEN ||
    (decided >= MIN_SAMPLES_FOR_RATE && sinceChange.failures / decided >= FAILURE_RATE_TO_OPEN);
  return tooMany
    ? { state: 'open', consecutive_failures, opened_at: now, since: now, probe: null }
    : { ...breaker, consecutive_failures };
}
