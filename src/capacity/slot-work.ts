import type { Env } from '../env';
import { log } from '../log';
import type { TaskRecord } from '../tasks/task-record';
import type { SlotEvent } from '../tasks/task-slot';
import { capacityStub } from './capacity.do';
import { poolOf } from './pools';

/**
 * The task's slot work (task-slot.ts) as calls to its provider account's capacity object, each said
 * as the event the machine takes next. Only asking needs the provider of the task's node: a slot
 * held or a place kept is renewed or given back where it is, even once that node has left the catalog.
 * Never throws: an unreachable capacity object is an event too.
 */
export async function slotWork(env: Env, job: { work: 'acquire'; provider: string } | { work: 'renew' | 'release' }, record: TaskRecord): Promise<SlotEvent> {
  const slot = record.slot;
  const { task_id, account_id } = record;
  try {
    switch (job.work) {
      case 'acquire': {
        const pool = poolOf(job.provider);
        // A place kept at another node's provider (the task moved on): given back first.
        if (slot?.pool && slot.pool !== pool) await capacityStub(env, slot.pool).release(task_id, false);
        const answer = await capacityStub(env, pool).acquire(pool, { task_id, account_id, throttle: slot?.throttled ?? null });
        return { type: 'slot_answered', pool, answer };
      }
      case 'renew':
        return { type: 'lease_renewed', lease_ms: slot?.pool ? await capacityStub(env, slot.pool).renew(task_id) : null };
      case 'release':
        if (slot?.pool) await capacityStub(env, slot.pool).release(task_id, record.provider !== null);
        return { type: 'slot_released' };
    }
  } catch (err) {
    log.warn('capacity_unreachable', { task_id, account_id, work: job.work, pool: slot?.pool ?? ('provider' in job ? poolOf(job.provider) : null) }, err);
    return { type: 'slot_unreachable', message: 'The capacity object did not answer.' };
  }
}
