import type { TaskRecord } from './task-record';
import { maySubmit, slotDue, type SlotWork } from './task-slot';
import { isTerminal } from './task.schema';

/** Timed work: the provider steps, the deadline, and the finished task's side effects. */
export type Work = 'deadline' | 'submit' | 'poll' | 'store' | 'settle' | 'webhook' | 'snapshot' | SlotWork;

export interface DueWork {
  work: Work;
  at: number;
}

/**
 * The one rule for what is due: every piece of waiting work with the time it may run. A running
 * task has its next provider step and its deadline, and its submit slot's work (task-slot.ts: no
 * submit before a slot is granted); a final one its unsettled credits, its pending webhook, a slot to
 * give back, and then (only once billing and webhook are done, so KV never keeps a state that will
 * change) its snapshot.
 */
export function due(record: TaskRecord): DueWork[] {
  const slot = slotDue(record);
  if (!isTerminal(record.status)) {
    // No submit without a submit slot: until one is granted, the ask (or the wait for it) is the next step.
    const step = record.run.phase !== 'submit' || maySubmit(record) ? [{ work: record.run.phase, at: record.run.next_at }] : [];
    return [{ work: 'deadline', at: record.deadline_at }, ...(slot ? [slot] : []), ...step];
  }
  const work: DueWork[] = slot ? [slot] : [];
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

