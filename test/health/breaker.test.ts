import { describe, expect, it } from 'vitest';
import {
  admit,
  type Breaker,
  CLOSED,
  FAILURES_TO_OPEN,
  MIN_SAMPLES_FOR_RATE,
  nodeState,
  PROBE_LEASE_MS,
  record,
} from '../../src/health/breaker';

const settings = { cooldownMs: 30_000 };
const none = { successes: 0, failures: 0 };

/** The breaker after `failures` consecutive failures, one a second from t = 0, counting only those. */
function failed(failures: number, from: Breaker = CLOSED): Breaker {
  let breaker = from;
  for (let i = 1; i <= failures; i++) breaker = record(breaker, 'failure', { successes: 0, failures: i }, i * 1000);
  return breaker;
}

describe('a node circuit breaker', () => {
  it(`opens after ${FAILURES_TO_OPEN} consecutive failures, not before`, () => {
    const almost = failed(FAILURES_TO_OPEN - 1);
    expect(almost.state).toBe('closed');
    expect(admit(almost, 'task_a', 10_000, settings).admission).toEqual({ verdict: 'go' });
    const open = failed(FAILURES_TO_OPEN);
    expect(open).toMatchObject({ state: 'open', opened_at: FAILURES_TO_OPEN * 1000 });
    expect(admit(open, 'task_a', 10_000, settings).admission).toEqual({ verdict: 'refused', retry_at: FAILURES_TO_OPEN * 1000 + 30_000 });
  });

  it('is kept closed by a success or a customer-caused answer between failures', () => {
    let breaker = failed(FAILURES_TO_OPEN - 1);
    breaker = record(breaker, 'neutral', none, 9_000);
    expect(breaker.consecutive_failures).toBe(0);
    breaker = failed(FAILURES_TO_OPEN - 1, breaker);
    breaker = record(breaker, 'success', none, 20_000);
    expect(failed(FAILURES_TO_OPEN - 1, breaker).state).toBe('closed');
  });

  it(`opens on a failure rate of one half once it has ${MIN_SAMPLES_FOR_RATE} outcomes to judge by`, () => {
    const flaky = { ...CLOSED, consecutive_failures: 1 };
    const half = MIN_SAMPLES_FOR_RATE / 2;
    expect(record(flaky, 'failure', { successes: half, failures: half - 1 }, 1000).state).toBe('closed');
    expect(record(flaky, 'failure', { successes: half, failures: half }, 1000).state).toBe('open');
  });

  it('lets one probe through once the cool-down is over, and refuses the others', () => {
    const open = failed(FAILURES_TO_OPEN);
    const over = open.opened_at! + settings.cooldownMs;
    expect(nodeState(open, over - 1, settings)).toBe('open');
    expect(nodeState(open, over, settings)).toBe('half_open');
    const first = admit(open, 'task_probe', over, settings);
    expect(first.admission).toEqual({ verdict: 'probe' });
    expect(admit(first.breaker, 'task_other', over + 10, settings).admission).toEqual({ verdict: 'refused', retry_at: over + PROBE_LEASE_MS });
    // The probe's own retry on the node is still the probe.
    expect(admit(first.breaker, 'task_probe', over + 20, settings).admission).toEqual({ verdict: 'probe' });
    // A probe that never reports holds the node only until its lease ends.
    expect(admit(first.breaker, 'task_other', over + PROBE_LEASE_MS, settings).admission).toEqual({ verdict: 'probe' });
  });

  it('closes when the probe succeeds, and opens again for a whole cool-down when it fails', () => {
    const open = failed(FAILURES_TO_OPEN);
    const over = open.opened_at! + settings.cooldownMs;
    const probing = admit(open, 'task_probe', over, settings).breaker;
    expect(record(probing, 'success', none, over + 5)).toEqual({ state: 'closed', consecutive_failures: 0, opened_at: null, since: over + 5, probe: null });
    const again = record(probing, 'failure', none, over + 5);
    expect(again).toMatchObject({ state: 'open', opened_at: over + 5, probe: null });
    expect(admit(again, 'task_next', over + 6, settings).admission).toEqual({ verdict: 'refused', retry_at: over + 5 + settings.cooldownMs });
  });

  it('judges the failure rate after closing on what came after, not on the failures that opened it', () => {
    const closed = record(failed(FAILURES_TO_OPEN), 'success', none, 60_000);
    expect(closed.since).toBe(60_000);
    expect(record(closed, 'failure', { successes: 1, failures: 1 }, 61_000).state).toBe('closed');
  });
});
