import { createRoute, z } from '@hono/zod-openapi';
import { streamSSE } from 'hono/streaming';
import { ApiError } from '../../errors';
import { forgetTaskSnapshot } from '../../tasks/task-snapshot';
import { taskStub } from '../../tasks/task.do';
import { isTerminal, TaskSchema } from '../../tasks/task.schema';
import { createRouter } from '../app';
import { requireApiKey } from '../auth/middleware';
import { bearerSecurity, errorResponses, jsonResponse } from '../openapi';
import { malformedParamIsNotFound, TaskIdParam } from '../params';

/** The longest the event stream stays silent: a comment line keeps proxies from closing it. */
const KEEP_ALIVE_MS = 15_000;

const cancelTask = createRoute({
  method: 'post',
  path: '/tasks/{task_id}/cancel',
  operationId: 'cancelTask',
  tags: ['tasks'],
  summary: 'Cancel a task',
  description:
    'Allowed while no provider is generating the task (`pending` or `queued`, including a task whose submits were ' +
    'refused and wait to be retried): it becomes `canceled`, refunded in full, and its webhook is sent. ' +
    'Afterwards `409`: the provider is already generating it and charges for it.',
  security: bearerSecurity,
  middleware: [requireApiKey] as const,
  request: { params: TaskIdParam },
  responses: {
    200: jsonResponse(TaskSchema, 'The canceled task.'),
    ...errorResponses(401, 404, 409),
  },
});

const taskEvents = createRoute({
  method: 'get',
  path: '/tasks/{task_id}/events',
  operationId: 'streamTaskEvents',
  tags: ['tasks'],
  summary: "Watch a task's changes",
  description:
    'A `text/event-stream`: first the task as it is now, then one `task` event per change (`id` increasing), a ' +
    'comment line at least every 15 s, and the stream ends after the event that carries a final status. A client ' +
    'reconnecting with `Last-Event-ID` gets the task first only if it changed since that event.',
  security: bearerSecurity,
  middleware: [requireApiKey] as const,
  request: { params: TaskIdParam },
  responses: {
    200: { description: 'Server-sent events, each `data` a task.', content: { 'text/event-stream': { schema: z.string() } } },
    ...errorResponses(401, 404),
  },
});

export const taskControlRoutes = createRouter()
  .openapi(
    cancelTask,
    async (c) => {
      const { task_id } = c.req.valid('param');
      const result = await taskStub(c.env, task_id).cancel(c.get('accountId'));
      if (result.ok) {
        forgetTaskSnapshot(task_id);
        return c.json(result.task, 200);
      }
      if (result.reason === 'not_found') throw new ApiError('not_found', `No task ${task_id}.`, { param: 'task_id' });
      throw new ApiError(
        'conflict',
        isTerminal(result.task.status)
          ? `Task ${task_id} is already ${result.task.status}.`
          : `Task ${task_id} is ${result.task.status}: a provider is generating it, so it can no longer be canceled.`,
      );
    },
    malformedParamIsNotFound('task_id', 'task'),
  )
  .openapi(
    taskEvents,
    async (c) => {
      const { task_id } = c.req.valid('param');
      const accountId = c.get('accountId');
      const stub = taskStub(c.env, task_id);
      const first = await stub.watch(accountId, Number.MAX_SAFE_INTEGER, 0);
      if (!first) throw new ApiError('not_found', `No task ${task_id}.`, { param: 'task_id' });
      // A reconnecting client names the last event it saw: it gets the task only if it changed since.
      const seen = /^\d{1,15}$/.test(c.req.header('last-event-id') ?? '') ? Number(c.req.header('last-event-id')) : null;
      return streamSSE(c, async (stream) => {
        let { version, task } = first;
        const resumed = seen !== null && version <= seen;
        if (resumed) version = seen;
        else await stream.writeSSE({ event: 'task', id: String(version), data: JSON.stringify(task) });
        while (!isTerminal(task.status) && !stream.aborted) {
          // The task object answers as soon as the task changes: nothing here polls it.
          const next = await stub.watch(accountId, version, KEEP_ALIVE_MS);
          if (!next) break;
          if (next.version > version) {
            ({ version, task } = next);
            await stream.writeSSE({ event: 'task', id: String(version), data: JSON.stringify(task) });
          } else {
            await stream.write(': keep-alive\n\n');
          }
        }
      });
    },
    malformedParamIsNotFound('task_id', 'task'),
  );
