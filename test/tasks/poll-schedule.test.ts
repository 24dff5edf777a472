import { describe, expect, it } from 'vitest';
import {
  durationEstimate,
  MIN_SAMPLES,
  nextPollDelay,
  type PollHints,
  type ScheduleSettings,
} from '../../src/tasks/poll-schedule';

const PRODUCTION: ScheduleSettings = { pollInitialMs: 1000, pollMaxMs: 10_000 };
/** A model whose recent jobs took 10 s at the median and 13.8 s at the 90th percentile (a log-normal spread of 0.25). */
const EXPECTED = { p50_ms: 10_000, p90_ms: 13_800, samples: 50 };
const hints = (extra: Partial<PollHints> = {}): PollHints => ({ expected: EXPECTED, callback: false, min_interval_ms: 0, ...extra });

/** When the polls of a job accepted at 0 fall, as the machine makes them, up to `until`. */
function pollTimes(hintsOf: PollHints | null, until: number, settings = PRODUCTION): number[] {
  const times: number[] = [];
  let at = 0;
  for (let polls = 0; ; polls++) {
    at += nextPollDelay(at, polls, hintsOf, settings);
    if (at > until) return times;
    times.push(at);
  }
}

/** How long after a job ending at `end` the first poll at or after it comes. */
const seenAfter = (times: number[], end: number): number => times.find((t) => t >= end)! - end;

describe('the poll schedule', () => {
  it('without recent durations, backs off as before: the initial interval, growing by half, up to the maximum', () => {
    expect(pollTimes(null, 40_000)).toEqual([1000, 2500, 4750, 8125, 13188, 20782, 30782]);
    expect(pollTimes(hints({ expected: null }), 5000)).toEqual([1000, 2500, 4750]);
  });

  it('with recent durations, waits for the likely window, polls every 4% of the median through it, then thins out', () => {
    const times = pollTimes(hints(), 60_000);
    const step = 400;
    const p10 = (10_000 * 10_000) / 13_800;
    // Nothing before the window opens, one step before the 10th percentile.
    expect(times[0]).toBe(Math.round(p10 - step));
    // Inside the window: one step apart, up to past the 90th percentile.
    const inWindow = times.filter((t) => t <= 13_800 + step);
    expect(new Set(inWindow.slice(1).map((t, i) => t - inWindow[i]!))).toEqual(new Set([step]));
    // After it: wider and wider gaps, never above the maximum.
    const after = times.filter((t) => t > 13_800 + step);
    const gaps = after.slice(1).map((t, i) => t - after[i]!);
    expect(gaps.every((gap, i) => gap >= (gaps[i - 1] ?? 0) && gap <= PRODUCTION.pollMaxMs)).toBe(true);
    expect(gaps.at(-1)).toBe(PRODUCTION.pollMaxMs);
  });

  it('sees a job ending inside the window at most one step late, where the old backoff was seconds late', () => {
    const adaptive = pollTimes(hints(), 60_000);
    const backoff = pollTimes(null, 60_000);
    const ends = [7500, 8600, 10_000, 11_300, 13_000];
    for (const end of ends) expect(seenAfter(adaptive, end)).toBeLessThanOrEqual(400);
    const meanLate = (times: number[]) => ends.reduce((sum, end) => sum + seenAfter(times, end), 0) / ends.length;
    expect(meanLate(adaptive)).toBeLessThan(0.05 * EXPECTED.p50_ms);
    expect(meanLate(backoff)).toBeGreaterThan(1000);
  });

  it('opens the window by 70% of the median even when the history runs long, so a late start corrects itself', () => {
    // A history recorded while polling late: a median of 10 s with almost no spread, where jobs really end from 7 s on.
    const times = pollTimes(hints({ expected: { p50_ms: 10_000, p90_ms: 10_200, samples: 20 } }), 20_000);
    expect(times[0]).toBe(7000);
    for (const end of [7000, 8000, 9000]) expect(seenAfter(times, end)).toBeLessThanOrEqual(400);
  });

  it('with a callback expected, polls only as a safety net: at the 90th percentile and every maximum interval', () => {
    const times = pollTimes(hints({ callback: true }), 60_000);
    expect(times).toEqual([10_000, 13_800, 23_800, 33_800, 43_800, 53_800]);
    // Quick jobs: the first safety poll when nearly all have ended.
    expect(pollTimes(hints({ callback: true, expected: { p50_ms: 100, p90_ms: 150, samples: 9 } }), 20_000)).toEqual([150, 10_150]);
    expect(times.length).toBeLessThan(pollTimes(hints(), 60_000).length / 4);
    // Without recent durations, when the callback will come is unknown: the plain backoff.
    expect(pollTimes(hints({ callback: true, expected: null }), 5000)).toEqual([1000, 2500, 4750]);
  });

  it('never polls closer together than the provider asks', () => {
    const times = pollTimes(hints({ min_interval_ms: 2000 }), 60_000);
    expect(times.slice(1).every((t, i) => t - times[i]! >= 2000)).toBe(true);
    const fast = { pollInitialMs: 50, pollMaxMs: 400 };
    expect(pollTimes(hints({ expected: null, min_interval_ms: 2000 }), 10_000, fast)).toEqual([2000, 4000, 6000, 8000, 10_000]);
  });

  it('reads recent durations only from enough jobs', () => {
    expect(durationEstimate(undefined)).toBeNull();
    expect(durationEstimate({ successes: MIN_SAMPLES - 1, p50_ms: 5000, p90_ms: 7000 })).toBeNull();
    expect(durationEstimate({ successes: MIN_SAMPLES, p50_ms: null, p90_ms: null })).toBeNull();
    expect(durationEstimate({ successes: MIN_SAMPLES, p50_ms: 5000, p90_ms: 7000 })).toEqual({ p50_ms: 5000, p90_ms: 7000, samples: MIN_SAMPLES });
  });
});
