import { describe, expect, it } from 'vitest';
import { modelStatus } from '../../src/health/model-status';
import type { NodeSnapshot } from '../../src/health/snapshot';
import type { WindowStats } from '../../src/health/window';

const model = (...nodes: string[]) => ({ id: 'm', nodes: nodes.map((id) => ({ id })) }) as unknown as Parameters<typeof modelStatus>[0];

function stats(successes: number, failures: number, p50_ms: number | null = null): WindowStats {
  return { successes, failures, neutral: 0, success_rate: null, p50_ms, p90_ms: null, p99_ms: null };
}

function snapshot(node: string, state: 'closed' | 'open', models: Record<string, WindowStats> = {}): NodeSnapshot {
  return { v: 1, node, state, retry_at: state === 'open' ? 1 : null, written_at: 0, models };
}

describe("a model's live status", () => {
  it('is operational with no figures when nothing ran recently', () => {
    expect(modelStatus(model('a'), new Map())).toEqual({ state: 'operational', success_rate: null, p50_seconds: null, window_seconds: 900 });
  });

  it('adds up its nodes, and takes the median of the node that served most', () => {
    const snapshots = new Map([
      ['a', snapshot('a', 'closed', { m: stats(18, 0, 4200), other: stats(0, 50) })],
      ['b', snapshot('b', 'closed', { m: stats(2, 0, 9000) })],
    ]);
    expect(modelStatus(model('a', 'b'), snapshots)).toEqual({ state: 'operational', success_rate: 1, p50_seconds: 4.2, window_seconds: 900 });
  });

  it('is degraded below 90% successes with at least 5 outcomes, not with fewer', () => {
    expect(modelStatus(model('a'), new Map([['a', snapshot('a', 'closed', { m: stats(8, 2) })]]))).toMatchObject({ state: 'degraded', success_rate: 0.8 });
    expect(modelStatus(model('a'), new Map([['a', snapshot('a', 'closed', { m: stats(9, 1) })]])).state).toBe('operational');
    expect(modelStatus(model('a'), new Map([['a', snapshot('a', 'closed', { m: stats(1, 3) })]])).state).toBe('operational');
  });

  it('is degraded while one of its nodes is out of rotation, and down when all are', () => {
    const oneOpen = new Map([['a', snapshot('a', 'open', { m: stats(0, 5) })]]);
    expect(modelStatus(model('a', 'b'), oneOpen)).toMatchObject({ state: 'degraded', success_rate: 0 });
    expect(modelStatus(model('a'), oneOpen).state).toBe('down');
  });
});
