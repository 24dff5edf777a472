import type { SlotState } from '../capacity/slot';
import type { FailureCode, Json, ProviderImage } from '../providers/types';
import type { PollHints } from './poll-schedule';
import type { StoredImage, TaskRequest, TaskStatus, TaskView, WebhookState } from './task.schema';

/**
 * The task object's storage: one record under the key `task`, saved after every step. It is ours,
 * not the wire format: `renderTask` (task-view.ts) makes the public view from it, so an API field
 * can change without a storage migration, and a stored field can change with a version bump and an
 * upgrade in `readStoredRecord`. All times are integer epoch milliseconds.
 */
export const TASK_RECORD_VERSION = 2;

/** The `version` of a task as created: its first public view, what a waiter has seen from `create`. */
export const FIRST_VIEW_VERSION = 1;

/** Why a task failed, as `error.code` says: a provider's failure, or the customer's cancel. */
export type TaskErrorCode = FailureCode | 'canceled';

/** What the create route hands the task: everything already validated and paid for. */
export interface TaskInit {
  task_id: string;
  account_id: string;
  model: string;
  /** The validated request body, defaults applied: what the adapters read. */
  request: TaskRequest;
  /** Credits reserved for the task. */
  credits: number;
  /** How many images the price covers; a provider delivering fewer is charged for what it delivered. */
  images_requested: number;
  /** How many backend nodes the model has: the task fails over along them. */
  node_count: number;
  public_base_url: string;
}

/** What a redelivery request found: the restarted delivery, or why there is nothing to redeliver. */
export type RedeliveryResult =
  | { ok: true; webhook: WebhookState }
  | { ok: false; reason: 'not_found' | 'not_terminal' | 'no_callback_url' };

/** What a cancel found: the canceled task, or why not (a provider is generating it, or it ended). */
export type CancelResult =
  | { ok: true; task: TaskView }
  | { ok: false; reason: 'not_found' }
  | { ok: false; reason: 'not_cancelable'; task: TaskView };

/** Where the provider work stands while the task runs. */
export interface RunState {
  phase: 'submit' | 'poll' | 'store';
  node_index: number;
  /** Consecutive transient failures of the current step. */
  retries: number;
  /**
   * When the current node took the job (the accepted submit, or the synchronous call going out): the
   * start of the duration its health records. Null before that; absent in records saved before it existed.
   */
  submitted_at?: number | null;
  /** What the poll schedule knows of the current job (src/tasks/poll-schedule.ts); absent in older records. */
  poll_hints?: PollHints | null;
  /** SHA-256 (hex) of the capability token in the current job's callback URL; null when none was asked for. */
  callback_token_hash?: string | null;
  /** Callbacks that made a poll due at once (`MAX_CALLBACK_POLLS` at most, so a replayed one cannot make us poll without end). */
  callback_polls?: number;
  polls: number;
  handle: Json | null;
  images: ProviderImage[];
  /** Chosen before the copy so a re-run overwrites the same R2 objects. */
  file_ids: string[];
  next_at: number;
}

/** A side effect of the finished task, retried until it succeeds. */
export interface Retried {
  done: boolean;
  next_at: number | null;
  failures: number;
}

export interface WebhookRecord {
  /** `webhook-id`: the same for every attempt and redelivery of this task's event. */
  id: string;
  url: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  next_at: number | null;
}

export interface TaskRecord {
  v: typeof TASK_RECORD_VERSION;
  task_id: string;
  account_id: string;
  model: string;
  request: TaskRequest;
  credits: number;
  images_requested: number;
  node_count: number;
  public_base_url: string;
  callback_url: string | null;
  status: TaskStatus;
  provider: string | null;
  node: string | null;
  created_at: number;
  updated_at: number;
  completed_at: number | null;
  deadline_at: number;
  run: RunState;
  images: StoredImage[] | null;
  error: { code: TaskErrorCode; message: string } | null;
  /** Bumped whenever the task's public view changes: the `id` of its events, what waiting requests compare. */
  version: number;
  /** Credits the finished task costs (0 when it failed); null while it runs. */
  charge: number | null;
  billing: Retried;
  webhook: WebhookRecord | null;
  snapshot: Retried;
  /**
   * The task's submit slot at its provider account's capacity object (src/capacity/slot.ts). Absent on
   * records saved before capacity existed: those tasks go on without a slot.
   */
  slot?: SlotState;
}

/** A new task's record: pending, its first provider step due now, its deadline `deadlineMs` away. */
export function newTaskRecord(init: TaskInit, now: number, deadlineMs: number): TaskRecord {
  return {
    v: TASK_RECORD_VERSION,
    task_id: init.task_id,
    account_id: init.account_id,
    model: init.model,
    request: init.request,
    credits: init.credits,
    images_requested: Math.max(1, init.images_requested),
    node_count: init.node_count,
    public_base_url: init.public_base_url,
    callback_url: typeof init.request.callback_url === 'string' ? init.request.callback_url : null,
    status: 'pending',
    provider: null,
    node: null,
    created_at: now,
    updated_at: now,
    completed_at: null,
    deadline_at: now + Math.round(deadlineMs),
    run: {
      phase: 'submit',
      node_index: 0,
      retries: 0,
      polls: 0,
      handle: null,
      images: [],
      file_ids: [],
      next_at: now,
    },
    images: null,
    error: null,
    version: FIRST_VIEW_VERSION,
    charge: null,
    billing: { done: false, next_at: null, failures: 0 },
    webhook: null,
    snapshot: { done: false, next_at: null, failures: 0 },
    slot: { status: 'ask', pool: null, next_at: now, failures: 0, throttled: null, position: null },
  };
}

/** A record as version 1 stored it: the public view, with the runner's state beside it. */
interface TaskRecordV1 {
  view: {
    task_id: string;
    status: TaskStatus;
    model: string;
    credits: number;
    output: { images: StoredImage[] } | null;
    error: { code: FailureCode; message: string } | null;
    callback_url: string | null;
    webhook: WebhookState | null;
    provider: string | null;
    node: string | null;
    created_at: string;
    updated_at: string;
    completed_at: string | null;
  };
  account_id: string;
  request: TaskRequest;
  public_base_url: string;
  run: RunState & { deadline_at: number };
  billing: Retried & { charge: number | null };
  snapshot: Retried;
  webhook_id: string | null;
}

/** Any record a task object may hold, from any version. */
export type StoredTaskRecord = TaskRecord | TaskRecordV1;

/** What only the catalog knows about an old task: the facts version 1 did not store. */
export interface ModelFacts {
  images_requested: number;
  node_count: number;
}

const epoch = (iso: string | null): number | null => (iso === null ? null : Date.parse(iso));

/** The stored record in the current version, upgrading older ones. */
export function readStoredRecord(stored: StoredTaskRecord, facts: (model: string, request: TaskRequest) => ModelFacts): TaskRecord {
  if ('v' in stored) return stored;
  const { view, run, billing } = stored;
  const webhook = view.webhook;
  return {
    v: TASK_RECORD_VERSION,
    task_id: view.task_id,
    account_id: stored.account_id,
    model: view.model,
    request: stored.request,
    // Version 1 replaced the price with the charge once the task ended; either is what the task costs.
    credits: view.credits,
    ...facts(view.model, stored.request),
    public_base_url: stored.public_base_url,
    callback_url: view.callback_url,
    status: view.status,
    provider: view.provider,
    node: view.node,
    created_at: epoch(view.created_at)!,
    updated_at: epoch(view.updated_at)!,
    completed_at: epoch(view.completed_at),
    deadline_at: run.deadline_at,
    run: { ...run, next_at: Math.ceil(run.next_at) },
    images: view.output?.images ?? null,
    error: view.error,
    version: FIRST_VIEW_VERSION,
    charge: billing.charge,
    billing: { done: billing.done, next_at: billing.next_at === null ? null : Math.ceil(billing.next_at), failures: billing.failures },
    webhook:
      webhook && stored.webhook_id
        ? {
            id: stored.webhook_id,
            url: webhook.url,
            status: webhook.status,
            attempts: webhook.attempts,
            last_status_code: webhook.last_status_code,
            last_error: webhook.last_error,
            next_at: epoch(webhook.next_attempt_at),
          }
        : null,
    snapshot: stored.snapshot,
  };
}
