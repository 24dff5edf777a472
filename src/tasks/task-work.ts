import { accountStub } from '../accounts/account.do';
import { findModel } from '../catalog';
import { slotWork } from '../capacity/slot-work';
import type { BackendNode } from '../catalog/types';
import type { Env } from '../env';
import { askAdmission, reportOutcome } from '../health/client';
import { newFileId } from '../ids';
import { log } from '../log';
import { ResultRejectedError, ResultUnavailableError, spoolResultImage, storeResultImage } from '../outbound/result-store';
import { withTimeout } from '../outbound/timeout';
import { postWebhook } from '../outbound/webhook-delivery';
import { webhookHeaders } from '../outbound/webhook-signing';
import { ProviderRetryableError } from '../providers/types';
import { watchJob } from './job-watch';
import type { Work } from './task-due';
import type { TaskEffect, TaskEvent } from './task-machine';
import type { TaskRecord } from './task-record';
import { dropTaskSnapshot, writeTaskSnapshot } from './task-snapshot';
import { renderTask } from './task-view';
import { isTerminal } from './task.schema';
import { logTransition } from './transition-log';

/**
 * The I/O of the task's life: each piece of work the machine says is due, done once, its outcome
 * said as the event the machine takes next. Expected failures are events, never throws.
 */

/** Does one piece of due work and says what came of it. Never throws for an expected failure. */
export async function performWork(env: Env, work: Work, record: TaskRecord): Promise<TaskEvent> {
  switch (work) {
    case 'deadline':
      return { type: 'deadline_passed' };
    case 'submit':
    case 'poll':
      return providerStep(env, record, work);
    case 'acquire': {
      const node = nodeOf(record);
      if (!node) return { type: 'node_unconfigured', message: `Model ${record.model} has no backend node ${record.run.node_index}.` };
      return slotWork(env, { work, provider: node.provider }, record);
    }
    case 'renew':
    case 'release':
      return slotWork(env, { work }, record);
    case 'store':
      try {
        const images = await Promise.all(
          record.run.images.map((image, i) =>
            storeResultImage(env, image, record.run.file_ids[i]!, record.public_base_url, record.task_id),
          ),
        );
        return { type: 'results_stored', images };
      } catch (err) {
        return { type: 'store_failed', message: publicReason(record, err), retryable: err instanceof ResultUnavailableError };
      }
    case 'settle':
      try {
        await accountStub(env, record.account_id).resolve(record.task_id, record.charge ?? 0, record.status);
        return { type: 'billing_acknowledged' };
      } catch (err) {
        log.error('task_settlement_failed', { task_id: record.task_id, account_id: record.account_id }, err);
        return { type: 'billing_failed' };
      }
    case 'webhook':
      return deliverWebhook(env, record);
    case 'snapshot':
      try {
        await writeTaskSnapshot(env, record.account_id, renderTask(record));
        return { type: 'snapshot_written' };
      } catch (err) {
        log.error('task_snapshot_failed', { task_id: record.task_id }, err);
        return { type: 'snapshot_failed' };
      }
  }
}

async function providerStep(env: Env, record: TaskRecord, work: 'submit' | 'poll'): Promise<TaskEvent> {
  const node = nodeOf(record);
  if (!node) return { type: 'node_unconfigured', message: `Model ${record.model} has no backend node ${record.run.node_index}.` };
  if (work === 'submit' && !env[node.secret]) {
    return { type: 'node_unconfigured', message: `${node.provider} is not configured (${node.secret} is not set)` };
  }
  // Only a catalog change under a running task gets here.
  if (work === 'poll' && node.mode === 'sync') return { type: 'node_unconfigured', message: `node ${node.id} answers at once and has no job to poll` };
  try {
    const watch = work === 'submit' && node.mode === 'async' ? await watchJob(env, record, node) : null;
    const call = {
      env,
      fetch: fetchUntil(record.deadline_at),
      spool: (parts: Uint8Array[]) => spoolResultImage(env, parts, newFileId(), record.task_id),
      callbackUrl: watch?.callbackUrl,
    };
    const step = work === 'poll' && node.mode === 'async' ? await node.poll(record.run.handle, call) : await node.submit(record.request, call);
    const file_ids = step.state === 'succeeded' ? step.images.map((image) => ('spooled' in image ? image.spooled.file_id : newFileId())) : [];
    const watched = watch ? { poll_hints: watch.poll_hints, callback_token_hash: watch.callback_token_hash } : {};
    return { type: 'provider_answered', step, provider: node.provider, node: node.id, file_ids, ...watched };
  } catch (err) {
    const retryable = err instanceof ProviderRetryableError ? err : null;
    return {
      type: 'provider_failed',
      message: publicReason(record, err),
      rate_limited: retryable?.rateLimited ?? false,
      retry_after_ms: retryable?.retryAfterMs ?? null,
    };
  }
}

async function deliverWebhook(env: Env, record: TaskRecord): Promise<TaskEvent> {
  const webhook = record.webhook!;
  const body = JSON.stringify(renderTask(record));
  let headers: Record<string, string>;
  try {
    headers = await webhookHeaders(env, record.account_id, webhook.id, body, Date.now());
  } catch (err) {
    log.error('webhook_signing_failed', { task_id: record.task_id, account_id: record.account_id }, err);
    return { type: 'webhook_signing_failed' };
  }
  const answer = await postWebhook(webhook.url, headers, body);
  return { type: 'webhook_answered', status_code: answer.statusCode, error: answer.error };
}

/**
 * The fetch adapters get: aborted at the task's deadline, so a provider that never answers a
 * synchronous call cannot hold the task past it, whatever timeout the adapter chose.
 */
function fetchUntil(deadlineAt: number): typeof fetch {
  return (input, init) =>
    withTimeout(Math.max(1, deadlineAt - Date.now()), (signal) =>
      fetch(input, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, signal]) : signal }),
    );
}

/**
 * Asked before each submit: null when the task's node takes it, else the event saying it is out of
 * rotation (its breaker is open), which the machine answers by moving on.
 */
export async function nodeAdmission(env: Env, record: TaskRecord): Promise<TaskEvent | null> {
  const node = nodeOf(record);
  if (!node) return null;
  const admission = await askAdmission(env, node.id, record.task_id);
  return admission.verdict === 'refused' ? { type: 'node_unavailable', node: node.id, retry_at: admission.retry_at } : null;
}

/** The backend node the task is on now. */
export function nodeOf(record: TaskRecord): BackendNode | undefined {
  return findModel(record.model)?.nodes[record.run.node_index];
}

/**
 * Our words for a failure, which may end up in the task's error message: what our own errors say,
 * or a generic phrase, the runtime's text (`internal error; reference = …`) going to the log only.
 */
function publicReason(record: TaskRecord, err: unknown): string {
  if (err instanceof ProviderRetryableError || err instanceof ResultRejectedError || err instanceof ResultUnavailableError) return err.message;
  log.error('task_step_error', { task_id: record.task_id, model: record.model, phase: record.run.phase }, err);
  return 'unexpected error';
}

/** Does what the transition from `record` to `after` says must happen right away. */
export async function performEffects(env: Env, record: TaskRecord, effects: readonly TaskEffect[], after: TaskRecord): Promise<void> {
  for (const effect of effects) {
    switch (effect.type) {
      case 'drop_snapshot':
        await dropTaskSnapshot(env, record.task_id);
        break;
      case 'log':
        log[effect.level]('task_step_failed', { task_id: record.task_id, model: record.model, message: effect.message });
        break;
      case 'status_changed':
        logTransition(record, after, Date.now(), nodeOf(record));
        // Only the account's task list reads this, and the final status reaches it with the settlement anyway.
        if (isTerminal(effect.status)) break;
        try {
          await accountStub(env, record.account_id).noteTaskStatus(record.task_id, effect.status);
        } catch (err) {
          log.warn('task_index_not_updated', { task_id: record.task_id, account_id: record.account_id }, err);
        }
        break;
      case 'node_outcome': {
        // Fire and forget: the node's health never delays or fails the task.
        const node = findModel(record.model)?.nodes[effect.node_index];
        if (node) void reportOutcome(env, node.id, record.model, effect.outcome, record.task_id);
        break;
      }
    }
  }
}
