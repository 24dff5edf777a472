import { chance, int, pick, type Random } from './random';

/**
 * The ten catalog models as a chaos run asks for them: a body of the model's own fields (as README's
 * model tables give them), a few values of each so every price row and image count is met, and which
 * of the simulator's fault switches make sense for the model's provider.
 */
export interface ModelPlan {
  id: string;
  /** `async`: the provider queues a job that is polled; `sync`: it answers the submit with the images. */
  mode: 'async' | 'sync';
  /** The model's fields besides `prompt` and `callback_url`; `inputUrl` serves a reference image. */
  fields(random: Random, inputUrl: string): Record<string, unknown>;
  /** Fault switches only this model's provider has, each with its label. */
  extraFaults: ReadonlyArray<readonly [label: string, directive: string, weight: number]>;
}

const reference = (random: Random, inputUrl: string, p: number) => (chance(random, p) ? { input_urls: [inputUrl] } : {});
/** Mostly one image: the simulator draws each one, and the machine is shared. */
const count = (random: Random, max: number) => (chance(random, 0.25) ? { n: int(random, 2, max) } : {});

export const CHAOS_MODELS: readonly ModelPlan[] = [
  {
    id: 'flux-2',
    mode: 'async',
    fields: (r, url) => ({
      aspect_ratio: pick(r, ['1:1', '16:9', '9:16', '4:3', '3:2']),
      type: pick(r, ['pro', 'pro', 'flex']),
      ...(chance(r, 0.1) ? { resolution: '2K' } : {}),
      ...reference(r, url, 0.15),
    }),
    extraFaults: [['unknown provider status', '[sim:status=Queued]', 1]],
  },
  {
    id: 'cogview-4',
    mode: 'async',
    fields: (r) => ({ aspect_ratio: pick(r, ['1:1', '16:9', '3:4']), quality: pick(r, ['hd', 'standard']) }),
    extraFaults: [['provider status cancelled', '[sim:status=cancelled]', 1]],
  },
  {
    id: 'kling-image-o1',
    mode: 'async',
    fields: (r, url) => ({ aspect_ratio: pick(r, ['1:1', '16:9', '9:16']), ...count(r, 2), ...reference(r, url, 0.15) }),
    extraFaults: [['provider status timeout', '[sim:status=timeout]', 1]],
  },
  {
    id: 'hunyuan-image-3',
    mode: 'async',
    fields: (r, url) => ({ aspect_ratio: pick(r, ['1:1', '4:3', '16:9']), ...reference(r, url, 0.15) }),
    extraFaults: [['provider status cancelled', '[sim:status=cancelled]', 1]],
  },
  {
    id: 'grok-imagine',
    mode: 'sync',
    fields: (r) => ({ aspect_ratio: pick(r, ['1:1', '16:9', '2:3']), ...count(r, 3) }),
    extraFaults: [],
  },
  {
    id: 'imagen-4',
    mode: 'sync',
    fields: (r) => ({ aspect_ratio: pick(r, ['1:1', '3:4', '16:9']), person_generation: 'allow_adult', ...count(r, 3) }),
    // A provider that filters single images: a successful task is charged for the ones delivered.
    extraFaults: [['one image filtered out', '[sim:drop=1]', 4]],
  },
  {
    id: 'ideogram-v3',
    mode: 'sync',
    fields: (r, url) => ({ rendering_speed: pick(r, ['TURBO', 'DEFAULT']), style_type: 'GENERAL', ...count(r, 2), ...reference(r, url, 0.1) }),
    extraFaults: [],
  },
  {
    id: 'ideogram-v4',
    mode: 'sync',
    fields: (r) => ({ aspect_ratio: pick(r, ['1:1', '16:9']), rendering_speed: 'TURBO' }),
    // Its first node (synchronous) down: the task moves to the second (a polled job).
    extraFaults: [['first node down, failover', '[sim:http=503][sim:only=ideogram_v4_sync]', 6]],
  },
  {
    id: 'recraft-v4',
    mode: 'sync',
    fields: (r) => ({ aspect_ratio: pick(r, ['1:1', '16:9', '4:5']), ...count(r, 2) }),
    extraFaults: [],
  },
  {
    id: 'gpt-image-1.5-official',
    mode: 'sync',
    fields: (r, url) => ({ size: pick(r, ['1024x1024', '1536x1024']), quality: pick(r, ['low', 'medium']), ...count(r, 2), ...reference(r, url, 0.1) }),
    extraFaults: [],
  },
];
