import type { Context } from 'hono';
import { config } from '../../config';
import type { AppEnv } from '../../env';
import { ApiError } from '../../errors';
import { FILE_ID_PATTERN } from '../../ids';
import { createTask } from '../../tasks/create-task';
import type { TaskRequest, TaskView } from '../../tasks/task.schema';
import { waitForTask } from '../../tasks/wait-for-task';
import type { OpenAIImagesResponse } from './openai.schema';

/**
 * What both OpenAI-compatible routes do once they hold a valid model request: create an ordinary task
 * (reserved, billed and listed like any other), wait for it without polling (the task's object wakes
 * the wait), and answer as OpenAI's Images API does, or with OpenAI's status for what went wrong.
 *
 * The OpenAI SDKs retry 429, 5xx and 409 answers (twice, by default), and a retry here would start a
 * second task. Every answer after which a retry cannot help, or would be billed again, carries
 * `x-should-retry: false`, which the SDK obeys (openai 6.x `shouldRetry`, read before the status).
 */

const NO_RETRY = { 'x-should-retry': 'false' };
/** How much earlier than the client's own timeout the route answers, so its 504 arrives before the client gives up. */
const CLIENT_TIMEOUT_MARGIN_MS = 1000;
const MIN_WAIT_MS = 500;

/**
 * The wait limit: the configured one, or less when the client says it gives up sooner. The OpenAI SDKs
 * send a request's own `timeout` option as `X-Stainless-Timeout` (whole seconds; openai 6.x sends it
 * only when set per request); a client that times out retries, which would start a second task, so the
 * 504 with the task id must come first.
 */
export function waitLimitMs(configured: number, clientTimeout: string | undefined): number {
  const seconds = clientTimeout && /^\d{1,7}$/.test(clientTimeout.trim()) ? Number(clientTimeout.trim()) : null;
  if (seconds === null || seconds === 0) return configured;
  return Math.min(configured, Math.max(MIN_WAIT_MS, seconds * 1000 - CLIENT_TIMEOUT_MARGIN_MS));
}

/** The R2 key of a result image from its URL (`…/api/v1/files/{file_id}`, see `fileUrl`). */
function fileIdOf(url: string): string {
  const id = new URL(url).pathname.split('/').at(-1) ?? '';
  if (!FILE_ID_PATTERN.test(id)) throw new Error(`result URL without a file id: ${url}`);
  return id;
}

/** `Uint8Array.prototype.toBase64` (TC39, in V8 and workerd; not yet in TypeScript's lib): native, unlike a loop over the bytes. */
const base64 = (bytes: Uint8Array): string => (bytes as Uint8Array & { toBase64(): string }).toBase64();

async function imagesAnswer(c: Context<AppEnv>, task: TaskView, format: 'url' | 'b64_json'): Promise<OpenAIImagesResponse> {
  const images = task.output?.images ?? [];
  const data =
    format === 'url'
      ? images.map((image) => ({ url: image.url }))
      : await Promise.all(
          images.map(async (image) => {
            const object = await c.env.IMAGES.get(fileIdOf(image.url));
            if (!object) throw new Error(`result file of ${task.task_id} missing from R2: ${image.url}`);
            return { b64_json: base64(new Uint8Array(await object.arrayBuffer())) };
          }),
        );
  return { created: Math.floor(Date.parse(task.created_at) / 1000), data };
}

/** A task that ended without images, in OpenAI's statuses; `imageParam` names the field its images came in. */
function failure(task: TaskView, imageParam: string): ApiError {
  const headers = { ...NO_RETRY, 'x-task-id': task.task_id };
  const why = (task.error?.message ?? 'no reason given').replace(/\.$/, '');
  const refunded = `task ${task.task_id}, ${task.error?.code ?? 'failed'}; nothing was charged`;
  switch (task.error?.code) {
    case 'content_moderated':
      return new ApiError('moderation_blocked', `${why} (${refunded}).`, { headers });
    case 'invalid_input_image':
      return new ApiError('invalid_request', `${imageParam}: ${why} (${refunded}).`, {
        param: imageParam,
        details: [{ path: imageParam, message: why }],
        headers,
      });
    case 'canceled':
      return new ApiError('conflict', `The task ${task.task_id} was canceled before it ended; nothing was charged.`, { headers });
    default:
      return new ApiError('provider_error', `${why} (${refunded}).`, { headers });
  }
}

/**
 * Creates the task for `request`, waits for it and gives OpenAI's `{ created, data }`, or throws the
 * error OpenAI's SDK expects. `x-task-id` names the task on every answer after it exists.
 */
export async function runTask(
  c: Context<AppEnv>,
  request: TaskRequest & { model: string },
  options: { format: 'url' | 'b64_json'; origin: string; imageParam: string; /** The request was refused and no task exists. */ onRefused?: () => void },
): Promise<OpenAIImagesResponse> {
  let creation: Awaited<ReturnType<typeof createTask>>;
  try {
    creation = await createTask(c.env, c.get('accountId'), request, options.origin);
  } catch (err) {
    // Only a refusal (4xx) is sure to leave no task behind; after a 500 the task may yet exist.
    if (err instanceof ApiError && err.status < 500) options.onRefused?.();
    if (err instanceof ApiError && err.code === 'insufficient_credits') {
      // OpenAI's out-of-credit answer; a retry would be refused the same way until the account is topped up.
      throw new ApiError('insufficient_quota', `${err.message} Top up the account; nothing was charged.`, { headers: NO_RETRY, cause: err });
    }
    throw err;
  }
  // No idempotency key here, so the creation is never a replay; the narrowing is for the types.
  if (creation.replayed) throw new Error('a creation without an idempotency key was replayed');
  const created = creation.task;
  c.header('x-task-id', created.task_id);

  const limitMs = waitLimitMs(config(c.env).syncWaitMs, c.req.header('x-stainless-timeout'));
  const task = await waitForTask(c.env, c.get('accountId'), created, limitMs);
  if (task.status === 'succeeded') return imagesAnswer(c, task, options.format);
  if (task.status === 'failed' || task.status === 'canceled') throw failure(task, options.imageParam);
  throw new ApiError(
    'wait_timeout',
    `The task ${task.task_id} is still ${task.status} after ${Math.round(limitMs / 1000)} s; it goes on: poll GET /api/v1/tasks/${task.task_id}.`,
    { headers: { ...NO_RETRY, 'x-task-id': task.task_id } },
  );
}
