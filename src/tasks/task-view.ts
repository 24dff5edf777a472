import type { TaskRecord } from './task-record';
import type { TaskView, WebhookState } from './task.schema';

const iso = (ms: number): string => new Date(ms).toISOString();

/** The webhook delivery as the task view shows it. */
export function renderWebhook(webhook: NonNullable<TaskRecord['webhook']>): WebhookState {
  return {
    url: webhook.url,
    status: webhook.status,
    attempts: webhook.attempts,
    last_status_code: webhook.last_status_code,
    last_error: webhook.last_error,
    next_attempt_at: webhook.next_at === null ? null : iso(webhook.next_at),
  };
}

/** The task as its owner sees it (`GET /api/v1/tasks/{id}`, webhooks, KV snapshots), made from the stored record. */
export function renderTask(record: TaskRecord): TaskView {
  const { model: _model, callback_url: _callback, ...input } = record.request;
  return {
    task_id: record.task_id,
    status: record.status,
    // Positions are told to a queued task now and then, and only ever go down (src/capacity/).
    ...(record.status === 'queued' ? { queue_position: record.slot?.position ?? 1 } : {}),
    model: record.model,
    input,
    credits: record.charge ?? record.credits,
    output: record.images ? { images: record.images } : null,
    error: record.error,
    callback_url: record.callback_url,
    webhook: record.webhook ? renderWebhook(record.webhook) : null,
    provider: record.provider,
    node: record.node,
    created_at: iso(record.created_at),
    updated_at: iso(record.updated_at),
    completed_at: record.completed_at === null ? null : iso(record.completed_at),
  };
}
