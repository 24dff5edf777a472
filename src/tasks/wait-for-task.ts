import type { Env } from '../env';
import { log } from '../log';
import { FIRST_VIEW_VERSION } from './task-record';
import { taskStub } from './task.do';
import { isTerminal, type TaskView } from './task.schema';

/**
 * The task just created (`task`, as `create` answered it), once it is final, or as it is when `ms`
 * have passed. The task's object wakes the wait when the task changes; this only calls again after
 * each change (or a restart of the object).
 */
export async function waitForTask(env: Env, accountId: string, task: TaskView, ms: number): Promise<TaskView> {
  const until = Date.now() + ms;
  const stub = taskStub(env, task.task_id);
  let version = FIRST_VIEW_VERSION;
  let current = task;
  while (!isTerminal(current.status) && Date.now() < until) {
    let next: Awaited<ReturnType<typeof stub.watch>>;
    try {
      next = await stub.watch(accountId, version, until - Date.now());
    } catch (err) {
      // The object restarted under the wait: the task goes on, the caller gets it as last seen.
      log.warn('task_wait_interrupted', { task_id: task.task_id, account_id: accountId }, err);
      break;
    }
    if (!next) break;
    ({ version, task: current } = next);
  }
  return current;
}
