import type { OutputSize } from './types';

/**
 * Builders for a model's `output_sizes` from the tables its entry already keeps, so each size is
 * declared once, beside the fields that select it.
 */

/** One size per aspect ratio from a `ratio → [width, height]` table, plus fixed field values (e.g. a resolution). */
export function sizesByRatio(
  table: Readonly<Record<string, readonly [number, number]>>,
  fields: Readonly<Record<string, string>> = {},
): OutputSize[] {
  return Object.entries(table).map(([ratio, [width, height]]) => ({ fields: { aspect_ratio: ratio, ...fields }, width, height }));
}

/** Sizes written `WxH` (e.g. `1024x1536`), selected by a field holding that text; `auto` and the like are skipped. */
export function sizesByName(field: string, names: readonly string[]): OutputSize[] {
  return names.flatMap((name) => {
    const match = /^(\d+)x(\d+)$/.exec(name);
    return match ? [{ fields: { [field]: name }, width: Number(match[1]), height: Number(match[2]) }] : [];
  });
}

/** `16:9` → 16/9, `19.5:9` → 19.5/9; null for `auto`. */
export function ratioValue(ratio: string): number | null {
  const match = /^(\d+(?:\.\d+)?):(\d+(?:\.\d+)?)$/.exec(ratio);
  return match ? Number(match[1]) / Number(match[2]) : null;
}

/**
 * Nominal sizes for a provider that publishes its aspect ratios and resolutions but not their
 * pixels: each resolution's square side (`1K` → 1024) spread over the ratio at the same area,
 * rounded to multiples of 16. `resolutions` maps the `resolution` field's values to sides; a single
 * side is for models without that field.
 */
export function nominalSizes(ratios: readonly string[], resolutions: Readonly<Record<string, number>> | number): OutputSize[] {
  const sides = typeof resolutions === 'number' ? { '': resolutions } : resolutions;
  return ratios.flatMap((ratio) => {
    const r = ratioValue(ratio);
    if (r === null) return [];
    return Object.entries(sides).map(([resolution, side]): OutputSize => ({
      fields: resolution ? { aspect_ratio: ratio, resolution } : { aspect_ratio: ratio },
      width: Math.round((side * Math.sqrt(r)) / 16) * 16,
      height: Math.round(side / Math.sqrt(r) / 16) * 16,
    }));
  });
}
