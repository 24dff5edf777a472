import { ErrorBodySchema } from '../../errors';
import { OpenAIImagesResponseSchema } from './openai.schema';

const TASK_ID_HEADER = {
  'x-task-id': { description: 'The task this request created; poll `GET /api/v1/tasks/{task_id}` with it.', schema: { type: 'string' as const } },
};

const error = (description: string, withTask = false) => ({
  description,
  ...(withTask ? { headers: TASK_ID_HEADER } : {}),
  content: { 'application/json': { schema: ErrorBodySchema } },
});

/** The answers of both OpenAI-compatible routes, in OpenAI's statuses so its SDKs raise their own error classes. */
export function openAIResponses(body: { tooLarge: string; mediaType: string }) {
  return {
    200: {
      description: "The task succeeded: OpenAI's `{ created, data }`, one entry per image, as `url` or `b64_json`.",
      headers: TASK_ID_HEADER,
      content: { 'application/json': { schema: OpenAIImagesResponseSchema } },
    },
    400: error(
      'Invalid request, naming the field (`invalid_request`, e.g. a `size`, `n` or `quality` the model cannot honour, or an unknown model); ' +
        "or the provider's content filter refused it (`moderation_blocked`, refunded).",
      true,
    ),
    401: error('Missing, malformed, unknown or revoked API key.'),
    409: error('The task was canceled (`POST /api/v1/tasks/{task_id}/cancel`) while this request waited.', true),
    413: error(body.tooLarge),
    415: error(body.mediaType),
    429: error('`insufficient_quota`: not enough credits, nothing charged (`x-should-retry: false`); or `rate_limited`, with `Retry-After`.'),
    502: error('`provider_error`: the provider failed to make the image after retries; the task failed and was refunded (`x-should-retry: false`).', true),
    504: error(
      '`wait_timeout`: the task is still running after the wait limit; it goes on and is billed when it succeeds; poll it by the id in the message and `x-task-id` (`x-should-retry: false`).',
      true,
    ),
  };
}
