import { z } from '@hono/zod-openapi';
import { wavespeedAdapter, wavespeedSize, type WavespeedJob } from '../providers/wavespeed.adapter';
import { callbackUrlField, oneOf, promptField } from './fields';
import { backendNode, defineModel } from './types';
import { sizesByRatio } from './output-sizes';

export const COGVIEW_4_ASPECT_RATIOS = ['1:1', '16:9', '9:16', '4:3', '3:4', '2:1', '1:2'] as const;
type AspectRatio = (typeof COGVIEW_4_ASPECT_RATIOS)[number];

/**
 * CogView-4 on WaveSpeed takes one of seven fixed sizes (Z.ai's recommended sizes); each ratio here
 * is the nearest of them, so 16:9 is really 7:4.
 */
export const COGVIEW_4_SIZES: Record<AspectRatio, readonly [number, number]> = {
  '1:1': [1024, 1024],
  '16:9': [1344, 768],
  '9:16': [768, 1344],
  '4:3': [1152, 864],
  '3:4': [864, 1152],
  '2:1': [1440, 720],
  '1:2': [720, 1440],
};

const schema = z
  .object({
    model: z.literal('cogview-4'),
    // 1000 characters is CogView's earlier published limit; neither Z.ai nor WaveSpeed publishes
    // CogView-4's. A stricter real limit is a refunded provider_error ('wavespeed/model-limits').
    prompt: promptField(1, 1000),
    aspect_ratio: oneOf(COGVIEW_4_ASPECT_RATIOS)
      .default('1:1')
      .meta({
        description:
          'Output aspect ratio: 1:1 1024×1024, 16:9 1344×768, 9:16 768×1344, 4:3 1152×864, 3:4 864×1152, 2:1 1440×720, 1:2 720×1440.',
      }),
    quality: oneOf(['hd', 'standard'])
      .default('hd')
      .meta({ description: '"hd" (more detail, about 20 s) or "standard" (about 5–10 s).' }),
    callback_url: callbackUrlField,
  })
  .strict()
  .openapi('Cogview4Request');

type Cogview4Input = z.infer<typeof schema>;

function toWavespeedJob(input: Cogview4Input): WavespeedJob {
  const [width, height] = COGVIEW_4_SIZES[input.aspect_ratio];
  return { model: 'z-ai/cogview-4', input: { prompt: input.prompt, size: wavespeedSize(width, height), quality: input.quality } };
}

export const cogview4 = defineModel({
  id: 'cogview-4',
  display_name: 'CogView-4',
  description: "Zhipu AI's bilingual (Chinese and English) text-to-image model, good at rendering text in images.",
  provider: 'Zhipu AI / WaveSpeed',
  runtime: 'async',
  input_kinds: ['text'],
  output_kind: 'image',
  schema,
  prices: [{ when: {}, credits: 4 }],
  output_sizes: sizesByRatio(COGVIEW_4_SIZES),
  nodes: [backendNode('node48', wavespeedAdapter, toWavespeedJob)],
});
