import { z } from '@hono/zod-openapi';
import { wavespeedAdapter, wavespeedSize, type WavespeedJob } from '../providers/wavespeed.adapter';
import { callbackUrlField, inputUrlsField, oneOf, promptField } from './fields';
import { backendNode, defineModel } from './types';
import { sizesByRatio } from './output-sizes';

export const HUNYUAN_IMAGE_3_ASPECT_RATIOS = ['1:1', '16:9', '9:16', '4:3', '3:4', '3:2', '2:3'] as const;
type AspectRatio = (typeof HUNYUAN_IMAGE_3_ASPECT_RATIOS)[number];

/**
 * Explicit sizes, each side 256–1536. Text-to-image takes them as `size: "W*H"`; the Instruct edit
 * endpoint takes the ratio as `size` and the sides as `width` and `height` (its own default is 256×256).
 */
export const HUNYUAN_IMAGE_3_SIZES: Record<AspectRatio, readonly [number, number]> = {
  '1:1': [1024, 1024],
  '16:9': [1280, 720],
  '9:16': [720, 1280],
  '4:3': [1152, 864],
  '3:4': [864, 1152],
  '3:2': [1248, 832],
  '2:3': [832, 1248],
};

const schema = z
  .object({
    model: z.literal('hunyuan-image-3'),
    // 4000 is the limit other hosts of HunyuanImage 3.0 publish; WaveSpeed publishes none. A stricter
    // real limit is a refunded provider_error (wavespeed `facts.unconfirmed`, 'wavespeed/model-limits').
    prompt: promptField(1, 4000),
    aspect_ratio: oneOf(HUNYUAN_IMAGE_3_ASPECT_RATIOS)
      .default('1:1')
      .meta({
        description:
          'Output aspect ratio: 1:1 1024×1024, 16:9 1280×720, 9:16 720×1280, 4:3 1152×864, 3:4 864×1152, 3:2 1248×832, 2:3 832×1248.',
      }),
    input_urls: inputUrlsField(2),
    callback_url: callbackUrlField,
  })
  .strict()
  .openapi('HunyuanImage3Request');

type HunyuanImage3Input = z.infer<typeof schema>;

/**
 * Text alone goes to HunyuanImage 3.0; with reference images the request goes to its Instruct edit
 * endpoint, which takes `images` (at most 2), `size` as a preset aspect ratio and the pixels as
 * `width` and `height` (wavespeed.ai/docs/docs-api/wavespeed-ai/hunyuan-image-3-instruct-edit, read
 * 2026-11-26; `W*H` there would be refused, or ignored for a 256×256 image).
 */
function toWavespeedJob(input: HunyuanImage3Input): WavespeedJob {
  const [width, height] = HUNYUAN_IMAGE_3_SIZES[input.aspect_ratio];
  if (input.input_urls) {
    return {
      model: 'wavespeed-ai/hunyuan-image-3-instruct/edit',
      input: { prompt: input.prompt, images: input.input_urls, size: input.aspect_ratio, width, height },
    };
  }
  return { model: 'wavespeed-ai/hunyuan-image-3', input: { prompt: input.prompt, size: wavespeedSize(width, height) } };
}

export const hunyuanImage3 = defineModel({
  id: 'hunyuan-image-3',
  display_name: 'HunyuanImage 3.0',
  description: "Tencent's 80B multimodal image model: long, detailed prompts and sharp text; edits with up to 2 reference images.",
  provider: 'Tencent / WaveSpeed',
  runtime: 'async',
  input_kinds: ['text', 'image'],
  output_kind: 'image',
  schema,
  prices: [{ when: {}, credits: 25 }],
  output_sizes: sizesByRatio(HUNYUAN_IMAGE_3_SIZES),
  nodes: [backendNode('node68', wavespeedAdapter, toWavespeedJob)],
});
