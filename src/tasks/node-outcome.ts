import type { NodeOutcome } from '../health/window';
import type { TaskEvent } from './task-machine';
import type { TaskRecord } from './task-record';
import { isTerminal } from './task.schema';

/**
 * Part of the machine: whether `event`, taking the task from `before` to `after` at `now`, ended the
 * task's turn on its backend node, and how, as the node's health counts it (see `NodeOutcome`). A
 * turn ends when the node delivers, when the node answers finally (a refusal or a failed job), when
 * the task gives up on the node after its tries, or at the deadline with the job at the node.
 */
export function nodeOutcome(
  before: TaskRecord,
  event: TaskEvent,
  after: TaskRecord,
  now: number,
): { node_index: number; outcome: NodeOutcome } | null {
  if (isTerminal(before.status) || before.run.phase === 'store') return null;
  const { run } = before;
  const turn = (outcome: NodeOutcome) => ({ node_index: run.node_index, outcome });
  switch (event.type) {
    case 'provider_answered': {
      const { step } = event;
      switch (step.state) {
        case 'pending':
          return null;
        case 'succeeded':
          // No image at all is the provider's moderation speaking, about the prompt.
          if (step.images.length === 0) return turn({ kind: 'neutral' });
          return turn({ kind: 'success', duration_ms: Math.max(0, now - (run.submitted_at ?? now)) });
        case 'failed':
          if (step.code === 'content_moderated' || step.code === 'invalid_input_image') return turn({ kind: 'neutral' });
          // A submit refused as a request (4xx) is about the request; a job the node took and then lost is the node's.
          if (step.code === 'provider_error' && run.phase === 'submit') return turn({ kind: 'neutral' });
          return turn({ kind: 'failure' });
      }
      return null;
    }
    case 'provider_failed': {
      // 429s are the provider's capacity, not its health; otherwise the turn ends when the task leaves the node.
      const leftNode = after.run.node_index !== run.node_index || isTerminal(after.status);
      return leftNode && !event.rate_limited ? turn({ kind: 'failure' }) : null;
    }
    case 'deadline_passed':
      // Only when a provider was generating: a task that waited for capacity or between retries tells nothing new.
      return isTerminal(after.status) && before.status === 'processing' ? turn({ kind: 'failure' }) : null;
    default:
      return null;
  }
}
