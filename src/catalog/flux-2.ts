import { z } from '@hono/zod-openapi';
import { bflAdapter, bflInputImageFields, type BflJob } from '../providers/bfl.adapter';
import { backendNode, defineModel } from './types';
import { sizesByRatio } from './output-sizes';
import { callbackUrlField, inputUrlsField, oneOf, promptField } from './fields';

export const FLUX_2_ASPECT_RATIOS = ['1:1', '16:9', '9:16', '4:3', '3:4', '3:2', '2:3', '4:5', '5:4', '21:9'] as const;
type AspectRatio = (typeof FLUX_2_ASPECT_RATIOS)[number];

/**
 * Output pixels per aspect ratio and resolution. FLUX.2 takes explicit width and height, each a
 * multiple of 16, at most 4 megapixels (4,194,304 px). 1K is about one megapixel; 2K doubles each
 * side, and where that passes 4 MP the longer side is cut back in steps of 16 until it fits.
 */
export const FLUX_2_SIZES: Record<'1K' | '2K', Record<AspectRatio, readonly [number, number]>> = {
  '1K': {
    '1:1': [1024, 1024],
    '16:9': [1376, 768],
    '9:16': [768, 1376],
    '4:3': [1152, 864],
    '3:4': [864, 1152],
    '3:2': [1248, 832],
    '2:3': [832, 1248],
    '4:5': [896, 1120],
    '5:4': [1120, 896],
    '21:9': [1568, 672],
  },
  '2K': {
    '1:1': [2048, 2048],
    '16:9': [2720, 1536],
    '9:16': [1536, 2720],
    '4:3': [2304, 1728],
    '3:4': [1728, 2304],
    '3:2': [2496, 1664],
    '2:3': [1664, 2496],
    '4:5': [1792, 2240],
    '5:4': [2240, 1792],
    '21:9': [3120, 1344],
  },
};

const schema = z
  .object({
    model: z.literal('flux-2'),
    prompt: promptField(3, 5000),
    aspect_ratio: oneOf(FLUX_2_ASPECT_RATIOS)
      .default('1:1')
      .meta({
        description: `Output aspect ratio; pixels at 1K / 2K: ${FLUX_2_ASPECT_RATIOS.map(
          (r) => `${r} ${FLUX_2_SIZES['1K'][r].join('×')} / ${FLUX_2_SIZES['2K'][r].join('×')}`,
        ).join(', ')}.`,
      }),
    type: oneOf(['pro', 'flex']).default('pro').meta({ description: '"pro" (higher quality) or "flex".' }),
    resolution: oneOf(['1K', '2K']).default('1K').meta({ description: 'Output resolution.' }),
    input_urls: inputUrlsField(8),
    callback_url: callbackUrlField,
  })
  .strict()
  .openapi('Flux2Request');

type Flux2Input = z.infer<typeof schema>;

function toBflJob(input: Flux2Input): BflJob {
  const [width, height] = FLUX_2_SIZES[input.resolution][input.aspect_ratio];
  return {
    endpoint: input.type === 'flex' ? 'flux-2-flex' : 'flux-2-pro',
    body: { prompt: input.prompt, width, height, output_format: 'png', ...bflInputImageFields(input.input_urls ?? []) },
  };
}

export const flux2 = defineModel({
  id: 'flux-2',
  display_name: 'FLUX.2',
  description:
    'Photorealistic text-to-image and image-to-image with Pro and Flex modes at 1K or 2K. Output sizes are ' +
    "multiples of 16 and at most 4 megapixels, as FLUX.2 requires; 2K doubles 1K's sides, trimmed to fit.",
  provider: 'Black Forest Labs',
  runtime: 'async',
  input_kinds: ['text', 'image'],
  output_kind: 'image',
  schema,
  prices: [
    { when: { type: 'pro', resolution: '1K' }, credits: 5 },
    { when: { type: 'pro', resolution: '2K' }, credits: 7 },
    { when: { type: 'flex', resolution: '1K' }, credits: 14 },
    { when: { type: 'flex', resolution: '2K' }, credits: 24 },
  ],
  output_sizes: [...sizesByRatio(FLUX_2_SIZES['1K'], { resolution: '1K' }), ...sizesByRatio(FLUX_2_SIZES['2K'], { resolution: '2K' })],
  nodes: [backendNode('node41', bflAdapter, toBflJob)],
});
