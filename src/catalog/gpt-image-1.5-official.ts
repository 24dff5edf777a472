import { z } from '@hono/zod-openapi';
import { openaiAdapter, openAIImageRefs, type OpenAIImageJob } from '../providers/openai.adapter';
import { callbackUrlField, imageCountField, inputUrlsField, oneOf, promptField } from './fields';
import { backendNode, defineModel } from './types';
import { sizesByName } from './output-sizes';

/** The sizes GPT Image models render; `auto` lets the model pick from the prompt (or first image). */
export const GPT_IMAGE_SIZES = ['auto', '1024x1024', '1536x1024', '1024x1536'] as const;

const schema = z
  .object({
    model: z.literal('gpt-image-1.5-official'),
    prompt: promptField(1, 32000),
    size: oneOf(GPT_IMAGE_SIZES).default('auto').meta({ description: 'Output size in pixels, or auto.' }),
    quality: oneOf(['auto', 'low', 'medium', 'high']).default('auto').meta({ description: 'Rendering quality.' }),
    background: oneOf(['auto', 'transparent', 'opaque'])
      .default('auto')
      .meta({ description: 'Background; transparent gives a PNG with an alpha channel.' }),
    n: imageCountField(10),
    input_urls: inputUrlsField(16),
    callback_url: callbackUrlField,
  })
  .strict()
  .openapi('GptImage15OfficialRequest');

type GptImage15Input = z.infer<typeof schema>;

function toOpenAIJob(input: GptImage15Input): OpenAIImageJob {
  return {
    model: 'gpt-image-1.5',
    prompt: input.prompt,
    n: input.n,
    size: input.size,
    quality: input.quality,
    background: input.background,
    output_format: 'png',
    ...openAIImageRefs(input.input_urls ?? []),
  };
}

export const gptImage15Official = defineModel({
  id: 'gpt-image-1.5-official',
  display_name: 'GPT Image 1.5',
  description: "OpenAI's GPT Image 1.5: text-to-image and image editing with up to 16 reference images.",
  provider: 'OpenAI',
  runtime: 'async',
  input_kinds: ['text', 'image'],
  output_kind: 'image',
  schema,
  prices: [{ when: {}, credits: 10 }],
  count_field: 'n',
  output_sizes: sizesByName('size', GPT_IMAGE_SIZES),
  nodes: [backendNode('node42', openaiAdapter, toOpenAIJob)],
});
