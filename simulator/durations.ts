/**
 * How long a simulated job runs. By default a job is ready at once (or after `[sim:slow=N]`), which
 * keeps the test suite fast. With `SIM_DURATIONS=realistic` in the simulator's environment (the bench
 * sets it), a job without `[sim:slow=…]` runs for a draw from its model's distribution below: a
 * log-normal around a median, so most jobs land near it and a few run long, as generation times do.
 *
 * The medians are illustrative, of the order the providers' pages and our own runs suggest for one
 * 1-megapixel image; no provider publishes a distribution. What matters for the Worker is that they
 * are seconds with a spread, so that polling has to guess when a job ends.
 */
export interface DurationModel {
  median_ms: number;
  /** The log-normal's sigma: 0.25 puts the 10th and 90th percentiles at about 0.73 and 1.38 times the median. */
  sigma: number;
}

/** Per simulated model (the provider's own model path or endpoint); other async jobs use `DEFAULT`. */
export const MODEL_DURATIONS: Readonly<Record<string, DurationModel>> = {
  'flux-2-pro': { median_ms: 7_000, sigma: 0.25 },
  'flux-2-flex': { median_ms: 14_000, sigma: 0.25 },
  'flux-2-max': { median_ms: 12_000, sigma: 0.25 },
  'z-ai/cogview-4': { median_ms: 6_000, sigma: 0.3 },
  'kwaivgi/kling-image-o1': { median_ms: 20_000, sigma: 0.3 },
  'wavespeed-ai/hunyuan-image-3': { median_ms: 18_000, sigma: 0.3 },
  'wavespeed-ai/hunyuan-image-3-instruct/edit': { median_ms: 20_000, sigma: 0.3 },
  'ideogram-v4-async': { median_ms: 10_000, sigma: 0.3 },
};
const DEFAULT: DurationModel = { median_ms: 8_000, sigma: 0.3 };

export type DurationMode = 'instant' | 'realistic';

/** The mode from `SIM_DURATIONS` (`realistic`, or anything else for instant jobs). */
export const durationModeFromEnv = (value: string | undefined): DurationMode => (value === 'realistic' ? 'realistic' : 'instant');

/** A standard normal draw (Box–Muller). */
function normal(random: () => number): number {
  const u = 1 - random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/**
 * How long a new job runs, in whole milliseconds: an explicit `[sim:slow=N]` (or the global latency)
 * always wins; otherwise 0, or in realistic mode a draw for `model`.
 */
export function jobDuration(mode: DurationMode, model: string, latencyMs: number, random: () => number = Math.random): number {
  if (latencyMs > 0 || mode === 'instant') return latencyMs;
  const { median_ms, sigma } = MODEL_DURATIONS[model] ?? DEFAULT;
  return Math.round(median_ms * Math.exp(sigma * normal(random)));
}
