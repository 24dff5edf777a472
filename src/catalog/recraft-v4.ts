import { z } from '@hono/zod-openapi';
import { recraftAdapter, recraftSize, type RecraftJob } from '../providers/recraft.adapter';
import { callbackUrlField, imageCountField, oneOf, promptField } from './fields';
import { backendNode, defineModel } from './types';
import { sizesByRatio } from './output-sizes';

export const RECRAFT_V4_ASPECT_RATIOS = [
  '1:1', '2:1', '1:2', '3:2', '2:3', '4:3', '3:4', '5:4', '4:5', '6:10', '14:10', '10:14', '16:9', '9:16',
] as const;
type AspectRatio = (typeof RECRAFT_V4_ASPECT_RATIOS)[number];

/** The sizes Recraft V4 accepts (recraft.ai/docs/api-reference/appendix), one per aspect ratio. */
export const RECRAFT_V4_SIZES: Record<AspectRatio, readonly [number, number]> = {
  '1:1': [1024, 1024],
  '2:1': [1536, 768],
  '1:2': [768, 1536],
  '3:2': [1280, 832],
  '2:3': [832, 1280],
  '4:3': [1216, 896],
  '3:4': [896, 1216],
  '5:4': [1152, 896],
  '4:5': [896, 1152],
  '6:10': [832, 1344],
  '14:10': [1280, 896],
  '10:14': [896, 1280],
  '16:9': [1344, 768],
  '9:16': [768, 1344],
};

const schema = z
  .object({
    model: z.literal('recraft-v4'),
    prompt: promptField(1, 10_000),
    aspect_ratio: oneOf(RECRAFT_V4_ASPECT_RATIOS)
      .default('1:1')
      .meta({ description: 'Output aspect ratio; each maps to one of Recraft V4 sizes, e.g. 16:9 is 1344×768.' }),
    n: imageCountField(6),
    callback_url: callbackUrlField,
  })
  .strict()
  .openapi('RecraftV4Request');

type RecraftV4Input = z.infer<typeof schema>;

function toRecraftJob(input: RecraftV4Input): RecraftJob {
  const [width, height] = RECRAFT_V4_SIZES[input.aspect_ratio];
  return { model: 'recraftv4', prompt: input.prompt, n: input.n, size: recraftSize(width, height) };
}

export const recraftV4 = defineModel({
  id: 'recraft-v4',
  display_name: 'Recraft V4',
  description: 'Recraft V4 raster images for design work: precise prompt following and clean composition.',
  provider: 'Recraft',
  runtime: 'async',
  input_kinds: ['text'],
  output_kind: 'image',
  schema,
  prices: [{ when: {}, credits: 10 }],
  count_field: 'n',
  output_sizes: sizesByRatio(RECRAFT_V4_SIZES),
  nodes: [backendNode('node78', recraftAdapter, toRecraftJob)],
});
