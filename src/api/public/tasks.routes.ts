import { createRoute, z } from '@hono/zod-openapi';
import { requireApiKey } from '../auth/middleware';
import { accountStub } from '../../accounts/account.do';
import { readCursor, signCursor } from '../../accounts/task-cursor';
import { createRouter } from '../app';
import { ApiError } from '../../errors';
import { bearerSecurity, errorResponses, jsonResponse } from '../openapi';
import { malformedParamIsNotFound, TaskIdParam, TaskListQuery } from '../params';
import type { Env } from '../../env';
import { isKnownUnfinished, noteTaskState, readTaskSnapshot } from '../../tasks/task-snapshot';
import { taskStub } from '../../tasks/task.do';
import { TaskSchema, type TaskView } from '../../tasks/task.schema';

const getTask = createRoute({
  method: 'get',
  path: '/tasks/{task_id}',
  operationId: 'getTask',
  tags: ['tasks'],
  summary: 'Get a task',
  description: 'Finished tasks are served from a KV snapshot; running ones from the task itself.',
  security: bearerSecurity,
  middleware: [requireApiKey] as const,
  request: { params: TaskIdParam },
  responses: {
    200: jsonResponse(TaskSchema, 'The task.'),
    ...errorResponses(401, 404),
  },
});

const TaskListSchema = z
  .object({
    data: z.array(TaskSchema).openapi({ description: 'Whole tasks, as `GET /tasks/{task_id}` returns them; newest first.' }),
    has_more: z.boolean(),
    next_cursor: z.string().nullable().openapi({ description: 'Pass as `cursor` (with the same filters) for the next page; null on the last.' }),
  })
  .openapi('TaskList');

const listTasks = createRoute({
  method: 'get',
  path: '/tasks',
  operationId: 'listTasks',
  tags: ['tasks'],
  summary: "List the caller's tasks",
  description:
    'Newest first, `limit` at a time; pass `next_cursor` back as `cursor` (with the same filters) for older tasks. ' +
    '`status` filters by the status the account last heard of, which follows the task within moments.',
  security: bearerSecurity,
  middleware: [requireApiKey] as const,
  request: { query: TaskListQuery },
  responses: {
    200: jsonResponse(TaskListSchema, 'A page of tasks.'),
    ...errorResponses(400, 401),
  },
});

/**
 * The KV snapshot when there is one, else the task's object. Tasks this isolate knows to be still
 * running skip the KV read, which would miss: most polls are of running tasks.
 */
async function readTask(env: Env, taskId: string, accountId: string): Promise<TaskView | null> {
  if (!isKnownUnfinished(taskId)) {
    const snapshot = await readTaskSnapshot(env, taskId, accountId);
    if (snapshot) return snapshot;
  }
  const task = await taskStub(env, taskId).view(accountId);
  noteTaskState(taskId, task);
  return task;
}

export const tasksRoutes = createRouter()
  .openapi(listTasks, async (c) => {
    const { limit, cursor, status, model } = c.req.valid('query');
    const accountId = c.get('accountId');
    const scope = { accountId, status, model };
    const secret = c.env.INTERNAL_API_TOKEN;
    const before = cursor === undefined ? undefined : await readCursor(secret, cursor, scope);
    if (before === null) {
      throw new ApiError('invalid_request', 'cursor: must be a next_cursor returned for these same filters', { param: 'cursor' });
    }
    const page = await accountStub(c.env, accountId).listTasks({ limit, before, status, model });
    // A row whose task cannot be read is one whose creation is failing right now: left out.
    const tasks = await Promise.all(page.task_ids.map((id) => readTask(c.env, id, accountId)));
    return c.json(
      {
        data: tasks.filter((task): task is TaskView => task !== null),
        has_more: page.next_before !== null,
        next_cursor: page.next_before === null ? null : await signCursor(secret, page.next_before, scope),
      },
      200,
    );
  })
  .openapi(
    getTask,
    async (c) => {
      const { task_id } = c.req.valid('param');
      const task = await readTask(c.env, task_id, c.get('accountId'));
      if (!task) throw new ApiError('not_found', `No task ${task_id}.`, { param: 'task_id' });
      return c.json(task, 200);
    },
    malformedParamIsNotFound('task_id', 'task'),
  );
