import { z } from '@hono/zod-openapi';
import { imagenAdapter, type ImagenJob } from '../providers/imagen.adapter';
import { callbackUrlField, imageCountField, oneOf, promptField } from './fields';
import { backendNode, defineModel } from './types';
import { nominalSizes } from './output-sizes';

/** The aspect ratios Imagen 4 renders (3:2 and others are rejected by the API). */
export const IMAGEN_4_ASPECT_RATIOS = ['1:1', '3:4', '4:3', '9:16', '16:9'] as const;

/**
 * Imagen 4 takes English prompts of up to 480 tokens. We cannot count Google's tokens here, so the
 * bound is in characters at about four per token; a prompt within it may still exceed 480 tokens.
 */
const IMAGEN_4_PROMPT_MAX_CHARS = 1920;

const schema = z
  .object({
    model: z.literal('imagen-4'),
    prompt: promptField(1, IMAGEN_4_PROMPT_MAX_CHARS),
    aspect_ratio: oneOf(IMAGEN_4_ASPECT_RATIOS).default('1:1').meta({ description: 'Output aspect ratio.' }),
    resolution: oneOf(['1K', '2K']).default('1K').meta({ description: 'Output resolution: 1K (1024×1024 at 1:1) or 2K (2048×2048 at 1:1).' }),
    person_generation: oneOf(['dont_allow', 'allow_adult', 'allow_all'])
      .default('allow_adult')
      .meta({ description: 'Whether people may appear: none, adults only, or all (allow_all is not offered in every region).' }),
    n: imageCountField(4),
    callback_url: callbackUrlField,
  })
  .strict()
  .openapi('Imagen4Request');

type Imagen4Input = z.infer<typeof schema>;

function toImagenJob(input: Imagen4Input): ImagenJob {
  return {
    model: 'imagen-4.0-generate-001',
    prompt: input.prompt,
    parameters: {
      // Sent explicitly: the API's own default is 4 images, each of which we would pay for.
      sampleCount: input.n,
      aspectRatio: input.aspect_ratio,
      sampleImageSize: input.resolution,
      personGeneration: input.person_generation,
      includeRaiReason: true,
      outputOptions: { mimeType: 'image/png' },
    },
  };
}

export const imagen4 = defineModel({
  id: 'imagen-4',
  display_name: 'Imagen 4',
  description: "Google's Imagen 4: photorealistic text-to-image at 1K or 2K, up to 4 images per task.",
  provider: 'Google',
  runtime: 'async',
  input_kinds: ['text'],
  output_kind: 'image',
  schema,
  prices: [{ when: {}, credits: 8 }],
  count_field: 'n',
  output_sizes: nominalSizes(IMAGEN_4_ASPECT_RATIOS, { '1K': 1024, '2K': 2048 }),
  nodes: [backendNode('node47', imagenAdapter, toImagenJob)],
});
