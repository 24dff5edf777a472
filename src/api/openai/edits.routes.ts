import { createRoute } from '@hono/zod-openapi';
import { findModel } from '../../catalog';
import { ApiError } from '../../errors';
import { log } from '../../log';
import { assertOutboundUrls } from '../../outbound/url-guard';
import type { InputValue } from '../../tasks/task.schema';
import { createRouter } from '../app';
import { requireApiKey } from '../auth/middleware';
import { bearerSecurity } from '../openapi';
import { requirePublicOrigin } from '../public-origin';
import { fromFormText, modelField, modelRequest } from './model-request';
import { OpenAIEditFormSchema } from './openai.schema';
import { openAIResponses } from './responses';
import { runTask } from './run-task';
import { checkImages, MAX_FILE_BYTES, MAX_FILES_BYTES, multipartForm, plannedUploads, storeUploads } from './uploads';

/** The model field the uploaded images become. */
const IMAGES_FIELD = 'input_urls';

const editImage = createRoute({
  method: 'post',
  path: '/images/edits',
  operationId: 'editImageOpenAI',
  tags: ['openai'],
  summary: 'Edit images (OpenAI Images API)',
  description:
    'A multipart form as the OpenAI SDKs send it: `image` (or `image[]`) files, PNG, JPEG or WebP by their bytes, each up to 20 MB and 50 MB ' +
    "together, for models that take images; the files are stored and handed to the provider as URLs served by this Worker. Otherwise as " +
    '`POST /v1/images/generations`.',
  security: bearerSecurity,
  middleware: [requireApiKey, multipartForm] as const,
  request: { body: { required: true, content: { 'multipart/form-data': { schema: OpenAIEditFormSchema } } } },
  responses: openAIResponses({
    tooLarge: `An image over ${MAX_FILE_BYTES} bytes, or images over ${MAX_FILES_BYTES} bytes together.`,
    mediaType: 'Body is not multipart/form-data.',
  }),
});

export const editsRoutes = createRouter().openapi(editImage, async (c) => {
  const { model: modelId, prompt, n, size, quality, response_format, user: _user, image, 'image[]': imageList, ...texts } = c.req.valid('form');
  const model = findModel(modelId)!;
  if (!modelField(model, IMAGES_FIELD)) {
    throw new ApiError('invalid_request', `image: ${model.id} takes no input images; use POST /v1/images/generations`, { param: 'image' });
  }
  if (IMAGES_FIELD in texts) {
    throw new ApiError('invalid_request', `${IMAGES_FIELD}: on this route the images are the image files`, { param: IMAGES_FIELD });
  }
  const files = [...(image === undefined ? [] : Array.isArray(image) ? image : [image]), ...(imageList ?? [])];
  if (files.length === 0) throw new ApiError('invalid_request', 'image: is required: send the image to edit as a file part', { param: 'image' });
  const own: Record<string, InputValue> = Object.fromEntries(Object.entries(texts).map(([field, text]) => [field, fromFormText(model, field, text)]));
  assertOutboundUrls(own, c.env);
  const origin = requirePublicOrigin(c);
  const images = await checkImages(files);
  // Validated with the URLs the images will have, so a refused request stores nothing.
  const uploads = plannedUploads(images.length, origin);
  const request = modelRequest(model, { prompt, n, size, quality }, own, { fields: { [IMAGES_FIELD]: uploads.urls }, param: 'image' });
  await storeUploads(c.env, uploads.ids, images, c.get('accountId'));
  const answer = await runTask(c, request, {
    format: response_format,
    origin: origin,
    imageParam: 'image',
    // Refused, no task: no one will read the uploads.
    onRefused: () => c.executionCtx.waitUntil(c.env.IMAGES.delete(uploads.ids)),
  });
  return c.json(answer, 200);
});
