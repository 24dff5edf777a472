import { describe, expect, it } from 'vitest';
import { percentile, type Sample, summarize } from '../../src/health/window';

const at = (seconds: number, kind: Sample['kind'], duration_ms: number | null = null): Sample => ({ at: seconds * 1000, model: 'm', kind, duration_ms });

describe('a node window', () => {
  it('takes percentiles by nearest rank', () => {
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(hundred, 0.5)).toBe(50);
    expect(percentile(hundred, 0.9)).toBe(90);
    expect(percentile(hundred, 0.99)).toBe(99);
    expect(percentile([7], 0.99)).toBe(7);
    expect(percentile([1, 2], 0.5)).toBe(1);
    expect(percentile([], 0.5)).toBeNull();
  });

  it('counts successes against failures, leaving the customer-caused answers out of the rate', () => {
    const stats = summarize([at(1, 'success', 3000), at(2, 'failure'), at(3, 'neutral'), at(4, 'success', 1000), at(5, 'success', 2000)], 0);
    expect(stats).toEqual({ successes: 3, failures: 1, neutral: 1, success_rate: 0.75, p50_ms: 2000, p90_ms: 3000, p99_ms: 3000 });
  });

  it('forgets what happened before the window began', () => {
    const stats = summarize([at(10, 'failure'), at(20, 'failure'), at(30, 'success', 500)], 15_000);
    expect(stats).toMatchObject({ successes: 1, failures: 1, success_rate: 0.5, p50_ms: 500 });
  });

  it('has no rate and no durations without outcomes', () => {
    expect(summarize([at(1, 'neutral')], 0)).toEqual({
      successes: 0,
      failures: 0,
      neutral: 1,
      success_rate: null,
      p50_ms: null,
      p90_ms: null,
      p99_ms: null,
    });
  });
});
