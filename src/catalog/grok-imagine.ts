import { z } from '@hono/zod-openapi';
import { xaiAdapter, type XaiJob } from '../providers/xai.adapter';
import { callbackUrlField, imageCountField, oneOf, promptField } from './fields';
import { backendNode, defineModel } from './types';
import { nominalSizes } from './output-sizes';

export const GROK_IMAGINE_ASPECT_RATIOS = [
  '1:1', '3:4', '4:3', '9:16', '16:9', '2:3', '3:2', '9:19.5', '19.5:9', '9:20', '20:9', '1:2', '2:1', 'auto',
] as const;

const schema = z
  .object({
    model: z.literal('grok-imagine'),
    // xAI gives the limit per model as `max_prompt_length` (GET /v1/image-generation-models/{id}); its
    // OpenAPI's example for grok-imagine-image is 1024 (xai-org/xai-sdk-ts@41e766ac generated types).
    // An example, not a guarantee: a longer real limit only makes us stricter, a shorter one is a
    // refunded provider_error.
    prompt: promptField(1, 1024),
    aspect_ratio: oneOf(GROK_IMAGINE_ASPECT_RATIOS)
      .default('1:1')
      .meta({ description: 'Output aspect ratio; "auto" lets the model choose from the prompt.' }),
    resolution: oneOf(['1K', '2K']).default('1K').meta({ description: 'Output resolution.' }),
    n: imageCountField(10),
    callback_url: callbackUrlField,
  })
  .strict()
  .openapi('GrokImagineRequest');

type GrokImagineInput = z.infer<typeof schema>;

function toXaiJob(input: GrokImagineInput): XaiJob {
  return {
    model: 'grok-imagine-image',
    prompt: input.prompt,
    n: input.n,
    aspect_ratio: input.aspect_ratio,
    resolution: input.resolution === '2K' ? '2k' : '1k',
  };
}

export const grokImagine = defineModel({
  id: 'grok-imagine',
  display_name: 'Grok Imagine',
  description: "xAI's fast text-to-image model with a wide range of aspect ratios, up to 10 images per task.",
  provider: 'xAI',
  runtime: 'async',
  input_kinds: ['text'],
  output_kind: 'image',
  schema,
  prices: [{ when: {}, credits: 5 }],
  count_field: 'n',
  // xAI publishes the ratios and 1k/2k, not their pixels.
  output_sizes: nominalSizes(GROK_IMAGINE_ASPECT_RATIOS, { '1K': 1024, '2K': 2048 }),
  nodes: [backendNode('node31', xaiAdapter, toXaiJob)],
});
