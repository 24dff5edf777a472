import type { TaskRecord } from './task-record';
import { hasInlineImages } from './task-machine';
import { isTerminal } from './task.schema';

/** Timed work: the provider steps, the deadline, and the finished task's side effects. */
export type Work = 'deadline' | 'submit' | 'poll' | 'store' | 'settle' | 'webhook' | 'snapshot';

export interface DueWork {
  work: Work;
  at: number;
}

/**
 * The one rule for what is due: every piece of waiting work with the time it may run. A running
 * task has its next provider step and its deadline; a final one its unsettled credits, its pending
 * webhook, and then (only once both are done, so KV never keeps a state that will change) its snapshot.
 */
export function due(record: TaskRecord): DueWork[] {
  if (!isTerminal(record.status)) {
    return [
      { work: 'deadline', at: record.deadline_at },
      { work: record.run.phase, at: record.run.next_at },
    ];
  }
  const work: DueWork[] = [];
  const { billing, webhook, snapshot } = record;
  if (!billing.done && billing.next_at !== null) work.push({ work: 'settle', at: billing.next_at });
  if (webhook?.status === 'pending' && webhook.next_at !== null) work.push({ work: 'webhook', at: webhook.next_at });
  if (billing.done && webhook?.status !== 'pending' && !snapshot.done && snapshot.next_at !== null) {
    work.push({ work: 'snapshot', at: snapshot.next_at });
  }
  return work;
}

/** The work to do now, if any: the deadline first, since it ends every other step of a running task. */
export function dueNow(record: TaskRecord, now: number): Work | null {
  return due(record).find((item) => item.at <= now)?.work ?? null;
}

/**
 * When the alarm must fire: at the earliest due work, in whole milliseconds and strictly after
 * `now` (the runtime truncates alarm times, and an alarm set to the time of the run setting it is
 * taken as already run and never fires). Null when nothing is left to do.
 */
export function alarmAt(record: TaskRecord, now: number): number | null {
  const times = due(record).map((item) => item.at);
  if (times.length === 0) return null;
  return Math.max(Math.ceil(Math.min(...times)), Math.floor(now) + 1);
}

/**
 * The record as it may be saved. Inline (base64) results are never saved: they can pass the
 * storage value limit. If the task stops before copying them, the step that produced them is
 * simply repeated.
 */
export function forStorage(record: TaskRecord): TaskRecord {
  const { run } = record;
  if (run.phase !== 'store' || !hasInlineImages(run.images)) return record;
  return { ...record, run: { ...run, phase: run.produced_by ?? 'submit', images: [], file_ids: [] } };
}
