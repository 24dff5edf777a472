import type { SlotAnswer, SlotState } from '../capacity/slot';
import type { TaskRecord } from './task-record';
import { isTerminal } from './task.schema';

/**
 * The task machine's side of provider capacity (src/capacity/): pure, like the rest of the machine.
 * A task holds a submit slot of its provider account from before its submit until the provider's job
 * ends; without one it waits `queued`, and the capacity object pushes the grant (and, now and then,
 * its falling position) to it as events.
 */

/** While queued, the task asks again this often in case a push from the capacity object was lost. */
export const QUEUE_RECHECK_MS = 15_000;
/** Failures to reach the capacity object before a task goes on without a slot (asking) or forgets it (releasing). */
export const SLOT_ATTEMPTS = 3;

export type SlotEvent =
  /** The capacity object's answer to an ask, or its push: a slot, or a place in its queue. */
  | { type: 'slot_answered'; pool: string; answer: SlotAnswer }
  | { type: 'slot_released' }
  /** A lease renewed for `lease_ms`, or null: the slot was taken back (it expired). */
  | { type: 'lease_renewed'; lease_ms: number | null }
  | { type: 'slot_unreachable'; message: string };

const retryIn = (failures: number): number => Math.min(30_000, 1_000 * 2 ** failures);

/** Whether the task needs a slot now: it is about to submit, or its provider job is running. */
const needsSlot = (record: TaskRecord): boolean => !isTerminal(record.status) && record.run.phase !== 'store';

/** A slot or place the task does not want (it ended, or moved on): given back. */
function giveBack(slot: SlotState, pool: string, now: number): SlotState {
  if (slot.status === 'release') return slot;
  return { ...slot, status: 'release', pool, next_at: now, failures: 0 };
}

export function slotEvent(record: TaskRecord, event: SlotEvent, now: number): TaskRecord {
  const slot = record.slot;
  if (!slot) return record;
  const asking = needsSlot(record) && record.run.phase === 'submit' && (slot.status === 'ask' || slot.status === 'queued');
  switch (event.type) {
    case 'slot_answered': {
      const { answer, pool } = event;
      if (answer.granted) {
        if (slot.status === 'held' && slot.pool === pool) return { ...record, slot: { ...slot, next_at: now + answer.lease_ms / 2 } };
        if (!asking) return { ...record, slot: giveBack(slot, pool, now) };
        // Submit at once; a queued task shows it is next until the provider takes it.
        return {
          ...record,
          updated_at: record.status === 'queued' && slot.position !== 1 ? now : record.updated_at,
          run: { ...record.run, next_at: now },
          slot: { status: 'held', pool, next_at: now + answer.lease_ms / 2, failures: 0, throttled: null, position: record.status === 'queued' ? 1 : slot.position },
        };
      }
      // A position arriving after the grant (pushes are not ordered) is stale.
      if (slot.status === 'held' || (slot.status === 'release' && slot.pool === pool)) return record;
      if (!asking) return { ...record, slot: giveBack(slot, pool, now) };
      const position = Math.min(slot.position ?? Number.POSITIVE_INFINITY, answer.position);
      // Statuses only move forward: a task already processing (a synchronous call refused with 429) waits as it is.
      const status = record.status === 'pending' ? 'queued' : record.status;
      const changed = status !== record.status || (status === 'queued' && position !== slot.position);
      return {
        ...record,
        status,
        updated_at: changed ? now : record.updated_at,
        slot: { status: 'queued', pool, next_at: now + QUEUE_RECHECK_MS, failures: 0, throttled: null, position },
      };
    }
    case 'slot_released':
      if (slot.status !== 'release') return record;
      return { ...record, slot: afterRelease(record, slot, now) };
    case 'lease_renewed':
      if (slot.status !== 'held') return record;
      if (event.lease_ms === null) return { ...record, slot: afterRelease(record, slot, now) };
      return { ...record, slot: { ...slot, next_at: now + event.lease_ms / 2, failures: 0 } };
    case 'slot_unreachable': {
      const failures = slot.failures + 1;
      if (slot.status === 'ask' || slot.status === 'queued') {
        // Capacity protects the provider; it must not stop the task: after a few tries, go on without it.
        // The position is kept, as on release: a task that queues again later shows no higher one.
        if (failures >= SLOT_ATTEMPTS) return { ...record, slot: { ...slot, status: 'bypass', next_at: null, failures }, run: { ...record.run, next_at: now } };
        return { ...record, slot: { ...slot, failures, next_at: now + retryIn(failures) } };
      }
      // An unreleased slot comes back when its lease runs out.
      if (slot.status === 'release' && failures >= SLOT_ATTEMPTS) return { ...record, slot: afterRelease(record, { ...slot, failures }, now) };
      if (slot.status === 'held' || slot.status === 'release') return { ...record, slot: { ...slot, failures, next_at: now + retryIn(failures) } };
      return record;
    }
  }
}

/**
 * With nothing held: ask again if the task is about to submit (on its next node), else nothing more to
 * do. The position is kept: shown positions only go down, even when a task queues again elsewhere.
 */
function afterRelease(record: TaskRecord, slot: SlotState, now: number): SlotState {
  const again = needsSlot(record) && record.run.phase === 'submit';
  return { status: again ? 'ask' : 'free', pool: null, next_at: again ? now : null, failures: 0, throttled: null, position: slot.position };
}

/**
 * A provider 429 on a submit despite the slot: the slot goes back with the next ask, which may lower
 * the pool's limit and queues the task again (first in line once; then behind its account's other
 * tasks, after a backoff: fair-queue.ts). Not a retry: it spends none of the node's tries.
 */
export function throttled(record: TaskRecord, retryAfterMs: number | null, now: number): TaskRecord | null {
  const slot = record.slot;
  if (slot?.status !== 'held' || record.run.phase !== 'submit') return null;
  return { ...record, slot: { ...slot, status: 'ask', next_at: now, throttled: { retry_after_ms: retryAfterMs } } };
}

/**
 * After any transition: a task that no longer needs its slot (its job ended at the provider, the task
 * ended, or it moved to another node) gives it back; queued tasks give up their place.
 */
export function followSlot(before: TaskRecord, after: TaskRecord, now: number): TaskRecord {
  const slot = after.slot;
  if (!slot || slot.status === 'release' || slot.status === 'free' || slot.status === 'bypass') return after;
  const movedNode = after.run.node_index !== before.run.node_index;
  if (needsSlot(after) && !movedNode) return after;
  if (slot.pool !== null) return { ...after, slot: giveBack(slot, slot.pool, now) };
  return { ...after, slot: afterRelease(after, slot, now) };
}

/** Whether the submit may go out: the task holds a slot, or does without one. */
export const maySubmit = (record: TaskRecord): boolean =>
  !record.slot || record.slot.status === 'held' || record.slot.status === 'bypass' || record.slot.status === 'free';

/** The slot's own work: ask for it (or, while queued, ask again), renew its lease, give it back. */
export type SlotWork = 'acquire' | 'renew' | 'release';

/** The slot work waiting, with the time it may run, if any. */
export function slotDue(record: TaskRecord): { work: SlotWork; at: number } | null {
  const slot = record.slot;
  if (!slot || slot.next_at === null) return null;
  switch (slot.status) {
    case 'release':
      return { work: 'release', at: slot.next_at };
    case 'held':
      return isTerminal(record.status) ? null : { work: 'renew', at: slot.next_at };
    case 'ask':
    case 'queued':
      return !isTerminal(record.status) && record.run.phase === 'submit' ? { work: 'acquire', at: slot.next_at } : null;
    default:
      return null;
  }
}

/**
 * Whether the task still wants the slot the capacity object of `pool` records for it: it runs and
 * holds (or is about to be told of) that pool's slot. Asked about holders not heard from for a
 * while, so a slot whose release a restart lost comes back within seconds.
 */
export function wantsSlot(record: TaskRecord | undefined, pool: string): boolean {
  const slot = record?.slot;
  if (!record || !slot || isTerminal(record.status) || slot.pool !== pool) return false;
  return slot.status === 'held' || slot.status === 'ask' || slot.status === 'queued';
}
