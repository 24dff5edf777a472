import { describe, expect, it } from 'vitest';
import { duplicateSubmits, type SubmitSeen } from '../../chaos/submits';

const submit = (at: number, status: number | null, extra: Partial<SubmitSeen> = {}): SubmitSeen => ({
  at,
  answered_at: status === null ? null : at + 100,
  status,
  caller_gone: false,
  garbled: false,
  ...extra,
});
const one = (submits: SubmitSeen[], outages = [] as { killed_at: number; back_at: number }[]) =>
  duplicateSubmits(new Map([['task_a', submits]]), outages);

describe('duplicate provider submits', () => {
  it('counts no duplicate for retries after refused submits (429, 5xx)', () => {
    const report = one([submit(0, 503), submit(1000, 429), submit(2000, 200)]);
    expect(report.total).toBe(0);
  });

  it('blames a malformed earlier answer', () => {
    const report = one([submit(0, 200, { garbled: true }), submit(1000, 200)]);
    expect(report).toMatchObject({ total: 1, byCause: { malformed: 1 } });
  });

  it('blames a kill while the call was out, and a call that timed out without one', () => {
    const cut = one([submit(0, 200, { caller_gone: true, answered_at: 5000 }), submit(9000, 200)], [{ killed_at: 2000, back_at: 8000 }]);
    expect(cut.byCause).toEqual({ killedInFlight: 1 });
    const slow = one([submit(0, 200, { caller_gone: true, answered_at: 31_000 }), submit(32_000, 200)]);
    expect(slow.byCause).toEqual({ timedOut: 1 });
  });

  it('blames a kill between the answer and the next submit', () => {
    const report = one([submit(0, 202), submit(9000, 202)], [{ killed_at: 500, back_at: 8000 }]);
    expect(report.byCause).toEqual({ killedBeforeSave: 1 });
  });

  it('blames a kill that came just before the simulator saw the call (the request was already on its way)', () => {
    const report = one([submit(10_000, 200), submit(30_000, 200)], [{ killed_at: 9_950, back_at: 29_000 }]);
    expect(report.byCause).toEqual({ killedInFlight: 1 });
  });

  it('blames a failed store of the results when the Worker logged one in between', () => {
    const report = duplicateSubmits(new Map([['task_a', [submit(0, 200), submit(5000, 200)]]]), [], new Map([['task_a', [2000]]]));
    expect(report.byCause).toEqual({ storeFailed: 1 });
  });

  it('blames a provider that never answered', () => {
    expect(one([submit(0, null), submit(30_000, null)]).byCause).toEqual({ hung: 1 });
  });

  it('reports a second accepted submit with no cause as unexplained, with the times', () => {
    const report = one([submit(0, 200), submit(1000, 200)]);
    expect(report.byCause).toEqual({ unexplained: 1 });
    expect(report.unexplained).toEqual([{ task: 'task_a', detail: expect.stringContaining('→ 200') }]);
  });
});
