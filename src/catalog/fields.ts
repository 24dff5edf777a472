import { z } from '@hono/zod-openapi';

export const MAX_URL_LENGTH = 2048;

function parseUrl(value: string): URL | null {
  try {
    return new URL(value);
  } catch {
    return null;
  }
}

/** The prompt, with the model's own length limits. */
export const promptField = (min: number, max: number) =>
  z
    .string({ error: 'is required and must be a string' })
    .min(min, `must be at least ${min} characters`)
    .max(max, `must be at most ${max} characters`)
    .meta({ description: `Text description of the image (${min}–${max} characters).` });

/**
 * The shape every outbound URL must have. Where it may point (public hosts only, loopback in local
 * dev) depends on the environment and is checked after parsing by `assertOutboundUrls`.
 */
export const urlField = z
  .string({ error: 'must be a string URL' })
  .max(MAX_URL_LENGTH, `must be at most ${MAX_URL_LENGTH} characters`)
  .refine((value) => parseUrl(value) !== null, 'must be an absolute URL')
  .refine((value) => ['http:', 'https:', undefined].includes(parseUrl(value)?.protocol), 'must be an http(s) URL');

export const callbackUrlField = urlField.optional().meta({
  description: 'https URL that receives the finished task as a signed webhook.',
  example: 'https://example.com/webhooks/images',
});

export const inputUrlsField = (max: number) =>
  z
    .array(urlField)
    .min(1, 'must hold at least 1 URL')
    .max(max, `must hold at most ${max} URLs`)
    .optional()
    .meta({ description: `Reference image URLs for image-to-image (1 to ${max}).` });

/** An enum whose error message lists what is allowed. */
export const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: `must be one of ${values.join(', ')}` });

/**
 * How many images one task makes, for models that can make several (1 to `max`, default 1). Name
 * the field in the entry's `count_field` so the price is per image.
 */
export const imageCountField = (max: number) =>
  z
    .number({ error: 'must be an integer' })
    .int('must be an integer')
    .min(1, 'must be at least 1')
    .max(max, `must be at most ${max}`)
    .default(1)
    .meta({ description: `Number of images to make (1–${max}); the price is per image.` });

/** An optional integer within the provider's range, e.g. a seed. */
export const intInRange = (min: number, max: number, description: string) =>
  z
    .number({ error: 'must be a number' })
    .int('must be an integer')
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`)
    .optional()
    .meta({ description });
