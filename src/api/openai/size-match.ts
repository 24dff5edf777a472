import type { OutputSize } from '../../catalog/types';

/**
 * Which of a model's sizes stands in for the pixels an OpenAI caller asked for (`size: "1536x1024"`).
 * Shape first: the closest aspect ratio, within 15% (so 3:2 may become 4:3, never 16:9 or 1:1). Then
 * the closest area among the sizes of about that shape, within a factor of two per side (so 512x512
 * may become 1024x1024, 256x256 may not). Anything further is a different picture, which the route
 * refuses rather than silently delivers.
 */
export const MAX_RATIO_ERROR = Math.log(1.15);
export const MAX_SIDE_FACTOR = 2;
/** Sizes whose ratios differ by less than this are one shape at several resolutions (2K sides are trimmed to fit). */
const SAME_SHAPE = Math.log(1.02);

export type SizeMatch = { ok: true; size: OutputSize } | { ok: false; nearest: OutputSize | null; reason: string };

/** `1536x1024` → [1536, 1024]; null for anything else (`auto` is the caller's to handle). */
export function parseSize(size: string): readonly [number, number] | null {
  const match = /^([1-9]\d{0,4})x([1-9]\d{0,4})$/.exec(size);
  return match ? [Number(match[1]), Number(match[2])] : null;
}

export function matchSize(sizes: readonly OutputSize[], width: number, height: number): SizeMatch {
  const shape = (w: number, h: number) => Math.log(w / h);
  const wanted = shape(width, height);
  const ratioError = (s: OutputSize) => Math.abs(shape(s.width, s.height) - wanted);
  const areaError = (s: OutputSize) => Math.abs(Math.log((s.width * s.height) / (width * height)));
  if (sizes.length === 0) return { ok: false, nearest: null, reason: 'the model renders no fixed sizes' };
  const closest = sizes.reduce((a, b) => (ratioError(b) < ratioError(a) ? b : a));
  const sameShape = sizes.filter((s) => Math.abs(shape(s.width, s.height) - shape(closest.width, closest.height)) <= SAME_SHAPE);
  const best = sameShape.reduce((a, b) => (areaError(b) < areaError(a) ? b : a));
  if (ratioError(closest) > MAX_RATIO_ERROR) {
    return { ok: false, nearest: best, reason: `no aspect ratio within 15% of ${width}x${height}` };
  }
  // Half the log of the area ratio is the log of the factor per side.
  if (areaError(best) / 2 > Math.log(MAX_SIDE_FACTOR)) {
    return { ok: false, nearest: best, reason: `${width}x${height} is more than twice as large or small, per side, as any size of that shape` };
  }
  return { ok: true, size: best };
}
