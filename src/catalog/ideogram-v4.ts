import { z } from '@hono/zod-openapi';
import { ideogramAdapter, ideogramAsyncAdapter, type IdeogramAsyncJob, type IdeogramJob } from '../providers/ideogram.adapter';
import { callbackUrlField, oneOf, promptField } from './fields';
import { backendNode, defineModel } from './types';
import { sizesByRatio } from './output-sizes';

/**
 * Ideogram 4.0 renders the 2K resolutions of its reference, one per aspect ratio; the ratio names
 * are the ones Ideogram gives them (9:22 is 1296x3168, and so on).
 */
export const IDEOGRAM_V4_RESOLUTIONS = {
  '1:1': '2048x2048',
  '1:2': '1440x2880',
  '2:1': '2880x1440',
  '2:3': '1664x2496',
  '3:2': '2496x1664',
  '4:5': '1792x2240',
  '5:4': '2240x1792',
  '9:16': '1440x2560',
  '16:9': '2560x1440',
  '5:8': '1600x2560',
  '8:5': '2560x1600',
  '3:4': '1728x2304',
  '4:3': '2304x1728',
  '9:22': '1296x3168',
  '22:9': '3168x1296',
  '9:23': '1152x2944',
  '23:9': '2944x1152',
  '3:8': '1248x3328',
  '8:3': '3328x1248',
  '5:12': '1280x3072',
  '12:5': '3072x1280',
} as const;

type AspectRatio = keyof typeof IDEOGRAM_V4_RESOLUTIONS;
const ASPECT_RATIOS = Object.keys(IDEOGRAM_V4_RESOLUTIONS) as [AspectRatio, ...AspectRatio[]];

const schema = z
  .object({
    model: z.literal('ideogram-v4'),
    // Ideogram publishes no limit; as for Ideogram 3.0 ('ideogram/limits').
    prompt: promptField(1, 5000),
    aspect_ratio: oneOf(ASPECT_RATIOS).default('1:1').meta({ description: 'Output aspect ratio (2K output).' }),
    // FLASH exists on 3.0 only; Ideogram answers 400 for FLASH on 4.0 ("coming soon").
    rendering_speed: oneOf(['TURBO', 'DEFAULT', 'QUALITY'])
      .default('DEFAULT')
      .meta({ description: 'Speed against quality: TURBO is fastest, QUALITY the most detailed.' }),
    callback_url: callbackUrlField,
  })
  .strict()
  .openapi('IdeogramV4Request');

type IdeogramV4Input = z.infer<typeof schema>;

/** Both routes take the same form: a natural-language prompt turns Ideogram's magic prompt on. */
function toAsyncJob(input: IdeogramV4Input): IdeogramAsyncJob {
  return {
    fields: {
      text_prompt: input.prompt,
      resolution: IDEOGRAM_V4_RESOLUTIONS[input.aspect_ratio],
      rendering_speed: input.rendering_speed,
    },
  };
}

const toSyncJob = (input: IdeogramV4Input): IdeogramJob => ({ route: 'ideogram-v4/generate', ...toAsyncJob(input) });

export const ideogramV4 = defineModel({
  id: 'ideogram-v4',
  display_name: 'Ideogram 4.0',
  description: 'Ideogram 4.0: best-in-class text rendering at 2K resolution.',
  provider: 'Ideogram',
  runtime: 'async',
  input_kinds: ['text'],
  output_kind: 'image',
  schema,
  prices: [{ when: {}, credits: 12 }],
  output_sizes: sizesByRatio(
    Object.fromEntries(ASPECT_RATIOS.map((r) => [r, IDEOGRAM_V4_RESOLUTIONS[r].split('x').map(Number) as [number, number]])),
  ),
  nodes: [
    // node63 answers synchronously; node30 queues the job and is polled, a separate path at Ideogram.
    backendNode('node63', ideogramAdapter, toSyncJob),
    backendNode('node30', ideogramAsyncAdapter, toAsyncJob),
  ],
});
