import { type MachineConfig, type TaskEvent, transition } from '../../src/tasks/task-machine';
import { newTaskRecord, type TaskRecord } from '../../src/tasks/task-record';

/** Shared by the machine's table and property tests: a task record at a fixed time, and a way to replay events. */
export const CONFIG: MachineConfig = { pollInitialMs: 100, pollMaxMs: 1000, webhookScheduleS: [1, 2], random: () => 0.5 };
export const T0 = 1_700_000_000_000;
export const DEADLINE_MS = 60_000;

export function newRecord(overrides: { callback?: boolean; nodes?: number; images?: number; credits?: number } = {}): TaskRecord {
  return newTaskRecord(
    {
      task_id: 'task_test',
      account_id: 'acct_test',
      model: 'flux-2',
      request: { model: 'flux-2', prompt: 'a cat', ...(overrides.callback ? { callback_url: 'https://hooks.example.com/x' } : {}) },
      credits: overrides.credits ?? 10,
      images_requested: overrides.images ?? 1,
      node_count: overrides.nodes ?? 1,
      public_base_url: 'https://api.example.com',
    },
    T0,
    DEADLINE_MS,
  );
}

/** Applies events in order at the given times; every one must be accepted. */
export function run(record: TaskRecord, ...steps: [number, TaskEvent][]): TaskRecord {
  return steps.reduce((current, [at, event]) => {
    const result = transition(current, event, at, CONFIG);
    if (!result.ok) throw new Error(`${event.type} refused: ${result.reason}`);
    return result.record;
  }, record);
}
