import { accountStub } from '../accounts/account.do';
import { findModel, priceOf } from '../catalog';
import type { Env } from '../env';
import { ApiError } from '../errors';
import { newTaskId } from '../ids';
import { noteTaskState } from './task-snapshot';
import { taskStub } from './task.do';
import type { TaskRequest, TaskView } from './task.schema';

/**
 * Creates a task for a validated request: reserves its price, then brings its object to life.
 * Credits are never lost on the way: a reservation whose task cannot be created is returned at
 * once, or by the account's sweep when even that answer is lost.
 */
export async function createTask(
  env: Env,
  accountId: string,
  request: TaskRequest & { model: string },
  publicBaseUrl: string,
): Promise<TaskView> {
  const model = findModel(request.model);
  if (!model) throw new ApiError('invalid_request', `model: unknown model ${request.model}`, { param: 'model' });

  const taskId = newTaskId();
  const price = priceOf(model, request);
  const account = accountStub(env, accountId);
  const reservation = await account.reserve(accountId, taskId, price);
  if (!reservation.ok) {
    throw new ApiError('insufficient_credits', `This task costs ${reservation.price} credits but the balance is ${reservation.balance}.`);
  }

  const stub = taskStub(env, taskId);
  let task: TaskView | null;
  try {
    task = await stub.create({
      task_id: taskId,
      account_id: accountId,
      model: model.id,
      request,
      credits: price,
      images_requested: model.count_field ? Math.max(1, Number(request[model.count_field] ?? 1)) : 1,
      node_count: model.nodes.length,
      public_base_url: publicBaseUrl,
    });
  } catch (err) {
    // The answer was lost, not necessarily the task: ask again, and if the task does not exist,
    // make sure it never will, so the reservation can be returned at once.
    console.error(JSON.stringify({ level: 'error', task_id: taskId, create: String(err) }));
    try {
      task = await stub.existingOrAbandon();
    } catch {
      throw new ApiError('internal_error', 'The task could not be created; its reserved credits are returned automatically.', { cause: err });
    }
  }
  if (!task) {
    await account.resolve(taskId, 0);
    throw new ApiError('internal_error', 'The task could not be created; no credits were charged.');
  }
  // Its creator polls it next; on this isolate those polls can skip the KV read that would miss.
  noteTaskState(task.task_id, task);
  return task;
}
