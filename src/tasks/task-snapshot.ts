import type { Env } from '../env';
import type { TaskView } from './task.schema';

export const taskSnapshotKey = (taskId: string): string => `task:${taskId}`;

interface Snapshot {
  account_id: string;
  task: TaskView;
}

/** A finished task from KV, if its snapshot is there and belongs to `accountId`. */
export async function readTaskSnapshot(env: Env, taskId: string, accountId: string): Promise<TaskView | null> {
  const snapshot = await env.KV.get<Snapshot>(taskSnapshotKey(taskId), 'json');
  return snapshot && snapshot.account_id === accountId ? snapshot.task : null;
}
