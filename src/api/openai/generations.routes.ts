import { createRoute } from '@hono/zod-openapi';
import { findModel } from '../../catalog';
import { ApiError } from '../../errors';
import { log } from '../../log';
import { assertOutboundUrls } from '../../outbound/url-guard';
import { createRouter, MAX_BODY_BYTES, requiredJsonBody } from '../app';
import { requireApiKey } from '../auth/middleware';
import { bearerSecurity } from '../openapi';
import { requirePublicOrigin } from '../public-origin';
import { modelRequest } from './model-request';
import { OpenAIGenerationRequestSchema } from './openai.schema';
import { openAIResponses } from './responses';
import { runTask } from './run-task';

const createImage = createRoute({
  method: 'post',
  path: '/images/generations',
  operationId: 'createImageOpenAI',
  tags: ['openai'],
  summary: 'Generate images (OpenAI Images API)',
  description:
    "For the official OpenAI SDKs (`baseURL = <worker>/v1`, `apiKey = <aio_ key>`). Creates an ordinary task (billed and listed as any " +
    "other, `x-task-id`), waits for it (up to `SYNC_WAIT_SECONDS`, or less when `X-Stainless-Timeout` says the client gives up sooner) and " +
    "answers OpenAI's `{ created, data }`. OpenAI's `n`, `size` and `quality` are mapped onto the model's own fields; the model's fields may be sent too.",
  security: bearerSecurity,
  middleware: [requireApiKey, requiredJsonBody] as const,
  request: { body: { required: true, content: { 'application/json': { schema: OpenAIGenerationRequestSchema } } } },
  responses: openAIResponses({ tooLarge: `Body larger than ${MAX_BODY_BYTES / 1024} KiB.`, mediaType: 'Body is not application/json.' }),
});

export const generationsRoutes = createRouter().openapi(createImage, async (c) => {
  const { model: modelId, prompt, n, size, quality, response_format, user: _user, ...own } = c.req.valid('json');
  // The schema's enum admits catalog ids only.
  const model = findModel(modelId)!;
  const request = modelRequest(model, { prompt, n, size, quality }, own);
  assertOutboundUrls(request, c.env);
  const origin = requirePublicOrigin(c);
  return c.json(await runTask(c, request, { format: response_format, origin: origin, imageParam: 'input_urls' }), 200);
});
