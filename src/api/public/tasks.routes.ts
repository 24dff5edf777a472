import { createRoute } from '@hono/zod-openapi';
import { requireApiKey } from '../auth/middleware';
import { createRouter } from '../app';
import { ApiError } from '../../errors';
import { bearerSecurity, errorResponses } from '../openapi';
import { malformedParamIsNotFound, TaskIdParam } from '../params';
import type { Env } from '../../env';
import { isKnownUnfinished, noteTaskState, readTaskSnapshot } from '../../tasks/task-snapshot';
import { taskStub } from '../../tasks/task.do';
import { TaskSchema, type TaskView } from '../../tasks/task.schema';

const getTask = createRoute({
  method: 'get',
  path: '/tasks/{task_id}',
  summary: 'Get a task',
  description: 'Finished tasks are served from a KV snapshot; running ones from the task itself.',
  security: bearerSecurity,
  middleware: [requireApiKey] as const,
  request: { params: TaskIdParam },
  responses: {
    200: { description: 'The task.', content: { 'application/json': { schema: TaskSchema } } },
    ...errorResponses(401, 404),
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

export const tasksRoutes = createRouter().openapi(
  getTask,
  async (c) => {
    const { task_id } = c.req.valid('param');
    const task = await readTask(c.env, task_id, c.get('accountId'));
    if (!task) throw new ApiError('not_found', `No task ${task_id}.`, { param: 'task_id' });
    return c.json(task, 200);
  },
  malformedParamIsNotFound('task_id', 'task'),
);
