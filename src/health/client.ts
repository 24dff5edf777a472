import type { Env } from '../env';
import { log } from '../log';
import type { Admission } from './breaker';
import { nodeHealthStub } from './node-health.do';
import type { NodeOutcome } from './window';

/** A health object slower than this is not waited for: health is advice, and a task must not hang on it. */
const ADMISSION_TIMEOUT_MS = 2_000;

/**
 * Whether task `taskId` may submit to node `node` now (see `NodeHealthDO.admit`). When the node's
 * object cannot answer in time the node is used as if healthy: a broken health object must never stop
 * the tasks it only advises on.
 */
export async function askAdmission(env: Env, node: string, taskId: string): Promise<Admission> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), ADMISSION_TIMEOUT_MS);
  });
  try {
    const answer = await Promise.race([nodeHealthStub(env, node).admit(node, taskId), timeout]);
    if (answer === null) log.warn('node_admission_timed_out', { node, task_id: taskId });
    return answer ?? { verdict: 'go' };
  } catch (err) {
    log.warn('node_admission_failed', { node, task_id: taskId }, err);
    return { verdict: 'go' };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Tells node `node`'s health object how a task's turn on it ended. Not awaited by the task: the
 * promise is handed back for the caller to leave running (a Durable Object stays alive while it
 * settles), and it never rejects.
 */
export function reportOutcome(env: Env, node: string, model: string, outcome: NodeOutcome, taskId: string): Promise<void> {
  return nodeHealthStub(env, node)
    .report(node, model, outcome)
    .catch((err: unknown) => log.warn('node_outcome_not_reported', { node, model, task_id: taskId, outcome: outcome.kind }, err));
}
