import { accountStub } from '../accounts/account.do';
import { requestFingerprint, type IdempotencyClaim } from '../accounts/idempotency';
import { findModel, priceOf } from '../catalog';
import type { Env } from '../env';
import { ApiError } from '../errors';
import { newTaskId } from '../ids';
import { log } from '../log';
import { noteTaskState } from './task-snapshot';
import { taskStub } from './task.do';
import { modelFacts } from './model-facts';
import type { TaskRequest, TaskView } from './task.schema';

/** A client's `Idempotency-Key` (already checked against the header's rule) and the body it came with, as sent. */
export interface IdempotencyKeyUse {
  key: string;
  /** The parsed JSON body before validation added defaults: the fingerprint is of what the client sent. */
  body: unknown;
}

/** A new task, or, for a key used before with the same body, the first answer to send again. */
export type Creation =
  | {
      replayed: false;
      task: TaskView;
      /**
       * Remembers the route's answer (its status and JSON body, serialised as `c.json` does) for
       * replays of the key; does nothing without one. Never throws: if the answer cannot be stored,
       * the account's alarm completes the entry with the task's short form.
       */
      answered(status: number, body: unknown): Promise<void>;
    }
  | { replayed: true; status: number; body: string };

/**
 * Creates a task for a validated request: reserves its price, then brings its object to life.
 * Credits are never lost on the way: a reservation whose task cannot be created is returned at
 * once, or by the account's sweep when even that answer is lost. With an idempotency key, the key
 * is claimed in the reservation's own transaction: a key seen before answers from there instead
 * (a replay, or 422/409), and a creation that fails frees it.
 */
export async function createTask(
  env: Env,
  accountId: string,
  request: TaskRequest & { model: string },
  publicBaseUrl: string,
  idempotency?: IdempotencyKeyUse,
): Promise<Creation> {
  const model = findModel(request.model);
  if (!model) throw new ApiError('invalid_request', `model: unknown model ${request.model}`, { param: 'model' });

  const taskId = newTaskId();
  const price = priceOf(model, request);
  const account = accountStub(env, accountId);
  const claim: IdempotencyClaim | undefined = idempotency && {
    key: idempotency.key,
    fingerprint: await requestFingerprint(idempotency.body),
  };
  const reservation = await account.reserve(accountId, taskId, price, { model: model.id, ...(claim ? { idempotency: claim } : {}) });
  if (!reservation.ok) {
    switch (reservation.reason) {
      case 'insufficient_credits':
        throw new ApiError('insufficient_credits', `This task costs ${reservation.price} credits but the balance is ${reservation.balance}.`);
      case 'idempotency_replay':
        return { replayed: true, status: reservation.status, body: reservation.body };
      case 'idempotency_key_reused':
        throw new ApiError('idempotency_key_reused', 'This Idempotency-Key was already used with a different request body.', {
          param: 'Idempotency-Key',
        });
      case 'idempotency_in_flight':
        throw new ApiError('conflict', 'A request with this Idempotency-Key is still being handled; retry shortly.', {
          param: 'Idempotency-Key',
          headers: { 'retry-after': '1' },
        });
    }
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
      ...modelFacts(model.id, request),
      public_base_url: publicBaseUrl,
    });
  } catch (err) {
    // The answer was lost, not necessarily the task: ask again, and if the task does not exist,
    // make sure it never will, so the reservation can be returned at once.
    log.error('task_create_failed', { task_id: taskId, account_id: accountId }, err);
    try {
      task = await stub.existingOrAbandon();
    } catch {
      // The key stays in flight (409 to retries) until the account's alarm learns the task's fate.
      throw new ApiError('internal_error', 'The task could not be created; its reserved credits are returned automatically.', { cause: err });
    }
  }
  if (!task) {
    await account.abandonCreation(taskId);
    throw new ApiError('internal_error', 'The task could not be created; no credits were charged.');
  }
  // Its creator polls it next; on this isolate those polls can skip the KV read that would miss.
  noteTaskState(task.task_id, task);
  return {
    replayed: false,
    task,
    answered: async (status, body) => {
      if (!claim) return;
      try {
        await account.completeIdempotency(claim.key, taskId, { status, body: JSON.stringify(body) });
      } catch (err) {
        log.error('idempotency_answer_not_stored', { task_id: taskId, account_id: accountId }, err);
      }
    },
  };
}
