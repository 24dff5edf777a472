import type { BackendNode } from '../catalog/types';
import { log } from '../log';
import type { TaskRecord } from './task-record';

/**
 * The log line of a task's status change, written when the shell performs the machine's
 * `status_changed` effect: one `task_transition` event per move (pending → processing → succeeded …),
 * so a task's life reads as a few lines filtered by `task_id`, and latencies by model or provider
 * are a query away. Never the prompt or any other request field: the task id leads to them.
 *
 * `before` and `after` are the task on either side of the transition; `node` the backend node it was on.
 */
export function logTransition(before: TaskRecord, after: TaskRecord, now: number, node: BackendNode | undefined): void {
  log.info('task_transition', {
    task_id: before.task_id,
    account_id: before.account_id,
    model: before.model,
    provider: after.provider ?? node?.provider ?? null,
    node: after.node ?? node?.id ?? null,
    from: before.status,
    to: after.status,
    // Which try of the step on this node led here (1 = the first), and which node of the model's list.
    attempt: before.run.retries + 1,
    node_index: before.run.node_index,
    // Since the task last changed in a way its owner could see (for a running task: its last transition).
    since_previous_ms: Math.max(0, now - before.updated_at),
    since_created_ms: Math.max(0, now - before.created_at),
    ...(after.error ? { error_code: after.error.code } : {}),
  });
}
