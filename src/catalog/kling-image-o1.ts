import { z } from '@hono/zod-openapi';
import { wavespeedAdapter, type WavespeedJob } from '../providers/wavespeed.adapter';
import { callbackUrlField, imageCountField, inputUrlsField, oneOf, promptField } from './fields';
import { backendNode, defineModel } from './types';
import { nominalSizes } from './output-sizes';

export const KLING_IMAGE_O1_ASPECT_RATIOS = ['1:1', '16:9', '9:16', '4:3', '3:4', '3:2', '2:3', '21:9', 'auto'] as const;

const schema = z
  .object({
    model: z.literal('kling-image-o1'),
    prompt: promptField(1, 2500),
    aspect_ratio: oneOf(KLING_IMAGE_O1_ASPECT_RATIOS)
      .default('1:1')
      .meta({ description: 'Output aspect ratio; "auto" lets the model choose (following the reference images).' }),
    resolution: oneOf(['1K', '2K']).default('1K').meta({ description: 'Output resolution.' }),
    n: imageCountField(9),
    input_urls: inputUrlsField(10),
    callback_url: callbackUrlField,
  })
  .strict()
  .openapi('KlingImageO1Request');

type KlingImageO1Input = z.infer<typeof schema>;

function toWavespeedJob(input: KlingImageO1Input): WavespeedJob {
  return {
    model: 'kwaivgi/kling-image-o1',
    input: {
      prompt: input.prompt,
      aspect_ratio: input.aspect_ratio,
      resolution: input.resolution === '2K' ? '2k' : '1k',
      num_images: input.n,
      ...(input.input_urls ? { images: input.input_urls } : {}),
    },
  };
}

export const klingImageO1 = defineModel({
  id: 'kling-image-o1',
  display_name: 'Kling Image O1',
  description: "Kuaishou's Kling omni image model: text-to-image and edits guided by up to 10 reference images, at 1K or 2K.",
  provider: 'Kuaishou / WaveSpeed',
  runtime: 'async',
  input_kinds: ['text', 'image'],
  output_kind: 'image',
  schema,
  prices: [{ when: {}, credits: 6 }],
  count_field: 'n',
  // WaveSpeed publishes the ratios and 1k/2k, not their pixels.
  output_sizes: nominalSizes(KLING_IMAGE_O1_ASPECT_RATIOS, { '1K': 1024, '2K': 2048 }),
  nodes: [backendNode('node49', wavespeedAdapter, toWavespeedJob)],
});
