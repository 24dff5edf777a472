import type { FailureCode, Json, ProviderImage } from '../providers/types';
import type { StoredImage, TaskRequest, TaskView, WebhookState } from './task.schema';

/**
 * The task object's storage: one record under the key `task`, saved after every step. `view` is
 * exactly what customers see; the rest is the runner's own state.
 */

/** What the create route hands the task: everything already validated and paid for. */
export interface TaskInit {
  task_id: string;
  account_id: string;
  model: string;
  /** The validated request body, defaults applied: what the adapters read. */
  request: TaskRequest;
  credits: number;
  public_base_url: string;
}

/** What a redelivery request found: the restarted delivery, or why there is nothing to redeliver. */
export type RedeliveryResult =
  | { ok: true; webhook: WebhookState }
  | { ok: false; reason: 'not_found' | 'not_terminal' | 'no_callback_url' };

export interface RunState {
  phase: 'submit' | 'poll' | 'store';
  node_index: number;
  /** Consecutive transient failures of the current step. */
  retries: number;
  polls: number;
  handle: Json | null;
  images: ProviderImage[];
  /** Chosen before the copy so a re-run overwrites the same R2 objects. */
  file_ids: string[];
  next_at: number;
  deadline_at: number;
}

/** A side effect of the finished task, retried by the alarm until it succeeds. */
export interface SideEffect {
  done: boolean;
  next_at: number | null;
  failures: number;
}

export interface TaskRecord {
  view: TaskView;
  account_id: string;
  request: TaskRequest;
  public_base_url: string;
  run: RunState;
  /** `charge`: credits the finished task costs (0 when it failed); null while it runs. */
  billing: SideEffect & { charge: number | null };
  snapshot: SideEffect;
  webhook_id: string | null;
}

export type Outcome =
  | { status: 'succeeded'; images: StoredImage[] }
  | { status: 'failed'; code: FailureCode; message: string };

export const iso = (ms: number): string => new Date(ms).toISOString();

/** A new task's record: pending, its first provider step due now, its deadline `deadlineMs` away. */
export function newTaskRecord(init: TaskInit, now: number, deadlineMs: number): TaskRecord {
  const callbackUrl = typeof init.request.callback_url === 'string' ? init.request.callback_url : null;
  const { model: _model, callback_url: _callback, ...input } = init.request;
  return {
    view: {
      task_id: init.task_id,
      status: 'pending',
      model: init.model,
      input,
      credits: init.credits,
      output: null,
      error: null,
      callback_url: callbackUrl,
      webhook: null,
      provider: null,
      node: null,
      created_at: iso(now),
      updated_at: iso(now),
      completed_at: null,
    },
    account_id: init.account_id,
    request: init.request,
    public_base_url: init.public_base_url,
    run: {
      phase: 'submit',
      node_index: 0,
      retries: 0,
      polls: 0,
      handle: null,
      images: [],
      file_ids: [],
      next_at: now,
      deadline_at: now + deadlineMs,
    },
    billing: { charge: null, done: false, next_at: null, failures: 0 },
    snapshot: { done: false, next_at: null, failures: 0 },
    webhook_id: null,
  };
}
