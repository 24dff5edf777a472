import type { Env } from '../env';
import { isTerminal, type TaskView } from './task.schema';

/**
 * Finished tasks in KV, and this isolate's caches in front of it: the one place that knows the
 * snapshot's key, shape and lifetime.
 */
export const taskSnapshotKey = (taskId: string): string => `task:${taskId}`;

/** How long finished snapshots stay in KV; older polls fall through to the task's object. */
const SNAPSHOT_TTL_S = 30 * 24 * 3600;

interface Snapshot {
  account_id: string;
  task: TaskView;
}

/**
 * Snapshots this isolate read lately. A snapshot only exists for a quiescent task, which changes
 * again only by a webhook redelivery (whose route forgets it here); elsewhere KV itself may serve
 * the old snapshot for up to a minute, so caching it for less adds no staleness of its own.
 */
const recent = new Map<string, { snapshot: Snapshot; expires: number }>();
const RECENT_TTL_MS = 30_000;
const MAX_RECENT = 10_000;

/** A finished task from KV, if its snapshot is there and belongs to `accountId`. */
export async function readTaskSnapshot(env: Env, taskId: string, accountId: string): Promise<TaskView | null> {
  const now = Date.now();
  let snapshot = recent.get(taskId);
  if (!snapshot || snapshot.expires <= now) {
    const stored = await env.KV.get<Snapshot>(taskSnapshotKey(taskId), 'json');
    if (!stored) return null;
    if (recent.size >= MAX_RECENT) recent.clear();
    snapshot = { snapshot: stored, expires: now + RECENT_TTL_MS };
    recent.set(taskId, snapshot);
  }
  return snapshot.snapshot.account_id === accountId ? snapshot.snapshot.task : null;
}

/** Drops this isolate's copy of a task's snapshot, when the task is about to change again. */
export function forgetTaskSnapshot(taskId: string): void {
  recent.delete(taskId);
}

/**
 * Saves a quiescent task: final, paid or refunded, with no webhook delivery pending, so a snapshot
 * never goes stale and each key is written about once.
 */
export async function writeTaskSnapshot(env: Env, accountId: string, task: TaskView): Promise<void> {
  const snapshot: Snapshot = { account_id: accountId, task };
  await env.KV.put(taskSnapshotKey(task.task_id), JSON.stringify(snapshot), { expirationTtl: SNAPSHOT_TTL_S });
}

/** Removes a task's snapshot, when the task is about to change again (a webhook redelivery). */
export async function dropTaskSnapshot(env: Env, taskId: string): Promise<void> {
  forgetTaskSnapshot(taskId);
  await env.KV.delete(taskSnapshotKey(taskId));
}

/**
 * Tasks this isolate has lately seen unfinished (created here, or read from their object while
 * running). KV holds only quiescent tasks, so a KV read for one of these would miss: their polls
 * go straight to the task's object, which is the source of truth anyway, and skip that read.
 * A task leaves the set as soon as its object reports it finished, so its later polls are served
 * from KV again. Only a hint: losing it (a new isolate, the set being cleared) costs one KV miss.
 */
const unfinished = new Set<string>();
const MAX_UNFINISHED = 10_000;

/** True when a KV read for this task would (most likely) miss. */
export function isKnownUnfinished(taskId: string): boolean {
  return unfinished.has(taskId);
}

/** Records what the task's object said about it; `null` (no such task) forgets it too. */
export function noteTaskState(taskId: string, task: Pick<TaskView, 'status'> | null): void {
  if (task && !isTerminal(task.status)) {
    if (unfinished.size >= MAX_UNFINISHED) unfinished.clear();
    unfinished.add(taskId);
  } else {
    unfinished.delete(taskId);
  }
}
