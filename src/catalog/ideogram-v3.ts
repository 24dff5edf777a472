import { z } from '@hono/zod-openapi';
import { ideogramAdapter, type IdeogramJob } from '../providers/ideogram.adapter';
import { callbackUrlField, imageCountField, inputUrlsField, intInRange, oneOf, promptField } from './fields';
import { backendNode, defineModel } from './types';
import { nominalSizes } from './output-sizes';

/** Ideogram 3.0's aspect ratios, written the catalog's way; Ideogram spells them `16x9`. */
export const IDEOGRAM_V3_ASPECT_RATIOS = [
  '1:1', '16:9', '9:16', '4:3', '3:4', '3:2', '2:3', '16:10', '10:16', '4:5', '5:4', '2:1', '1:2', '3:1', '1:3',
] as const;

/** Ideogram's `aspect_ratio` / `resolution` spelling of a `W:H` ratio. */
export const ideogramRatio = (ratio: string): string => ratio.replace(':', 'x');

/**
 * The longest prompt we accept. Ideogram publishes no limit (no maxLength in its OpenAPI); this keeps
 * requests well inside our 64 KB body limit and in line with the other catalog models. A stricter
 * real limit is a refunded provider_error (ideogram `facts.unconfirmed`, 'ideogram/limits').
 */
const IDEOGRAM_PROMPT_MAX_CHARS = 5000;

const schema = z
  .object({
    model: z.literal('ideogram-v3'),
    prompt: promptField(1, IDEOGRAM_PROMPT_MAX_CHARS),
    aspect_ratio: oneOf(IDEOGRAM_V3_ASPECT_RATIOS).default('1:1').meta({ description: 'Output aspect ratio.' }),
    rendering_speed: oneOf(['FLASH', 'TURBO', 'DEFAULT', 'QUALITY'])
      .default('DEFAULT')
      .meta({ description: 'Speed against quality: FLASH is fastest, QUALITY the most detailed.' }),
    magic_prompt: oneOf(['AUTO', 'ON', 'OFF']).default('AUTO').meta({ description: 'Let Ideogram rewrite the prompt.' }),
    style_type: oneOf(['AUTO', 'GENERAL', 'REALISTIC', 'DESIGN', 'FICTION'])
      .default('GENERAL')
      .meta({ description: 'Overall style of the image.' }),
    negative_prompt: z
      .string({ error: 'must be a string' })
      .min(1, 'must not be empty')
      .max(IDEOGRAM_PROMPT_MAX_CHARS, `must be at most ${IDEOGRAM_PROMPT_MAX_CHARS} characters`)
      .optional()
      .meta({ description: 'What to leave out of the image; the prompt wins where they conflict.' }),
    seed: intInRange(0, 2147483647, 'Random seed (0–2147483647) for reproducible images.'),
    n: imageCountField(8),
    // Ideogram takes style references as uploaded files, at most 10 MB together; the count of 3 is
    // from its product pages (the API reference gives no number; 'ideogram/limits').
    input_urls: inputUrlsField(3).meta({ description: 'Style reference image URLs (1 to 3, 10 MB together), PNG, JPEG or WebP.' }),
    callback_url: callbackUrlField,
  })
  .strict()
  .openapi('IdeogramV3Request');

type IdeogramV3Input = z.infer<typeof schema>;

function toIdeogramJob(input: IdeogramV3Input): IdeogramJob {
  const optional: Record<string, string> = {};
  if (input.negative_prompt !== undefined) optional.negative_prompt = input.negative_prompt;
  if (input.seed !== undefined) optional.seed = String(input.seed);
  return {
    route: 'ideogram-v3/generate',
    fields: {
      prompt: input.prompt,
      aspect_ratio: ideogramRatio(input.aspect_ratio),
      rendering_speed: input.rendering_speed,
      magic_prompt: input.magic_prompt,
      style_type: input.style_type,
      num_images: String(input.n),
      ...optional,
    },
    style_reference_urls: input.input_urls ?? [],
  };
}

export const ideogramV3 = defineModel({
  id: 'ideogram-v3',
  display_name: 'Ideogram 3.0',
  description: 'Ideogram 3.0: strong typography and design, with style reference images and up to 8 images per task.',
  provider: 'Ideogram',
  runtime: 'async',
  input_kinds: ['text', 'image'],
  output_kind: 'image',
  schema,
  prices: [{ when: {}, credits: 8 }],
  count_field: 'n',
  // About one megapixel at every ratio, as Ideogram 3.0 renders; its exact pixels are not in the API.
  output_sizes: nominalSizes(IDEOGRAM_V3_ASPECT_RATIOS, 1024),
  nodes: [backendNode('node63', ideogramAdapter, toIdeogramJob)],
});
