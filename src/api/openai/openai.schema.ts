import { z } from '@hono/zod-openapi';
import { MODELS } from '../../catalog';
import { maxCount } from './model-request';

/**
 * Request and response bodies of the OpenAI-compatible routes: OpenAI's own fields, typed as its
 * Images API types them, plus the chosen model's fields (`GET /api/v1/models` lists them), which the
 * model's strict schema validates once the model is known.
 */

const MODEL_IDS = MODELS.map((m) => m.id) as [string, ...string[]];
/** The most images any catalog model makes per request: the most `n` can be. */
const MAX_N = Math.max(...MODELS.map(maxCount));

export const OPENAI_QUALITIES = ['auto', 'low', 'medium', 'high', 'standard', 'hd'] as const;
export const RESPONSE_FORMATS = ['url', 'b64_json'] as const;
export const SIZE_PATTERN = /^(auto|[1-9]\d{0,4}x[1-9]\d{0,4})$/;

const descriptions = {
  model: 'Any catalog model (`GET /api/v1/models`).',
  prompt: "Text description of the image; its length limits are the model's.",
  n: "Number of images: onto the model's count field; more than 1 only for models that make several.",
  size: "`WIDTHxHEIGHT` or `auto`: onto the model's aspect ratio and resolution (or its own `size`) closest in shape and area; 400 when none is within 15% in shape and twice per side.",
  quality: "Onto the model's `quality` field where it has one; `auto` is the model's default.",
  response_format: '`url` (served by this Worker, no expiry, no Authorization needed) or `b64_json` (the image bytes inline).',
  user: 'Accepted for compatibility; not used.',
};

const openAIFields = {
  model: z.enum(MODEL_IDS, { error: `is required and must be one of ${MODEL_IDS.join(', ')}` }).openapi({ description: descriptions.model, example: 'flux-2' }),
  prompt: z.string({ error: 'is required and must be a string' }).min(1, 'must not be empty').openapi({ description: descriptions.prompt, example: 'A lighthouse at dawn' }),
  size: z.string({ error: 'must be a string' }).regex(SIZE_PATTERN, 'must be auto or WIDTHxHEIGHT, e.g. 1024x1024').optional().openapi({ description: descriptions.size, example: '1536x1024' }),
  quality: z.enum(OPENAI_QUALITIES, { error: `must be one of ${OPENAI_QUALITIES.join(', ')}` }).optional().openapi({ description: descriptions.quality }),
  response_format: z.enum(RESPONSE_FORMATS, { error: 'must be url or b64_json' }).default('url').openapi({ description: descriptions.response_format }),
  user: z.string({ error: 'must be a string' }).max(512, 'must be at most 512 characters').optional().openapi({ description: descriptions.user }),
};

export const OpenAIGenerationRequestSchema = z
  .object({
    ...openAIFields,
    n: z
      .number({ error: 'must be an integer' })
      .int('must be an integer')
      .min(1, 'must be at least 1')
      .max(MAX_N, `must be at most ${MAX_N}`)
      .optional()
      .openapi({ description: descriptions.n }),
  })
  .catchall(z.unknown())
  .openapi({ description: "OpenAI's image generation fields, plus the model's own fields (e.g. `aspect_ratio`, `type` for flux-2)." })
  .openapi('OpenAIImageGenerationRequest');

/** A file part of a multipart form, as Hono's form parser hands it over. */
const filePart = z.custom<File>((value) => value instanceof File, 'must be a file').openapi({ type: 'string', format: 'binary' });

/**
 * The multipart form of an edit. Hono's parser turns `image[]` (what the SDK sends for several files)
 * and a repeated `image` into arrays; every other part is text, and the model's own fields are read as
 * its schema types them.
 */
export const OpenAIEditFormSchema = z
  .object({
    ...openAIFields,
    image: z.union([filePart, z.array(filePart)]).optional().openapi({ description: 'The image to edit (PNG, JPEG or WebP, up to 20 MB); repeat for several.' }),
    'image[]': z.array(filePart).optional().openapi({ description: 'Several images, as the OpenAI SDK sends an array.' }),
    n: z
      .string({ error: 'must be an integer' })
      .regex(/^\d{1,3}$/, 'must be a whole number')
      .transform(Number)
      .pipe(z.number().min(1, 'must be at least 1').max(MAX_N, `must be at most ${MAX_N}`))
      .optional()
      .openapi({ type: 'integer', minimum: 1, maximum: MAX_N, description: descriptions.n }),
  })
  .catchall(z.string({ error: 'must be a text field' }))
  .openapi({ description: "OpenAI's image edit form: the image files, its fields, plus the model's own fields as text." })
  .openapi('OpenAIImageEditRequest');

export const OpenAIImagesResponseSchema = z
  .object({
    created: z.number().int().openapi({ description: 'When the task was created, in Unix seconds.' }),
    data: z.array(
      z.union([
        z.object({ url: z.string().openapi({ description: 'Served by this Worker; needs no Authorization header.' }) }),
        z.object({ b64_json: z.string().openapi({ description: 'The image file, base64.' }) }),
      ]),
    ),
  })
  .openapi('OpenAIImagesResponse');

export type OpenAIImagesResponse = z.infer<typeof OpenAIImagesResponseSchema>;
