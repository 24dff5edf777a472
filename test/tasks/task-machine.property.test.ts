import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { alarmAt, due, dueNow, forStorage, type Work } from '../../src/tasks/task-due';
import { type MachineConfig, type TaskEvent, transition } from '../../src/tasks/task-machine';
import type { TaskRecord } from '../../src/tasks/task-record';
import { isTerminal, type TaskStatus } from '../../src/tasks/task.schema';
import { DEADLINE_MS, newRecord } from './machine-fixtures';

const RANK: Record<TaskStatus, number> = { pending: 0, queued: 1, processing: 2, succeeded: 3, failed: 3, canceled: 3 };

/** One answer per kind of due work, chosen by the generator: what the world could say. */
const answerFor = {
  deadline: fc.constant<TaskEvent>({ type: 'deadline_passed' }),
  submit: providerAnswer(),
  poll: providerAnswer(),
  store: fc.oneof(
    fc.integer({ min: 0, max: 4 }).map<TaskEvent>((n) => ({
      type: 'results_stored',
      images: Array.from({ length: n }, () => ({ url: 'https://x/f', width: 1, height: 1, content_type: 'image/png' })),
    })),
    fc.boolean().map<TaskEvent>((retryable) => ({ type: 'store_failed', message: 'boom', retryable })),
  ),
  settle: fc.constantFrom<TaskEvent>({ type: 'billing_acknowledged' }, { type: 'billing_failed' }),
  webhook: fc.oneof(
    fc.constantFrom(200, 204, 301, 404, 410, 500, 503).map<TaskEvent>((code) => ({
      type: 'webhook_answered',
      status_code: code,
      error: code < 300 ? null : `receiver answered ${code}`,
    })),
    fc.constant<TaskEvent>({ type: 'webhook_answered', status_code: null, error: 'timed out after 10 s' }),
    fc.constant<TaskEvent>({ type: 'webhook_signing_failed' }),
  ),
  snapshot: fc.constantFrom<TaskEvent>({ type: 'snapshot_written' }, { type: 'snapshot_failed' }),
} satisfies Record<Work, fc.Arbitrary<TaskEvent>>;

function providerAnswer(): fc.Arbitrary<TaskEvent> {
  const answered = (step: Extract<TaskEvent, { type: 'provider_answered' }>['step']): TaskEvent => ({
    type: 'provider_answered',
    step,
    provider: 'p',
    node: 'n',
    file_ids: ['a', 'b', 'c', 'd'],
  });
  return fc.oneof(
    fc.constant(answered({ state: 'pending', handle: 'h' })),
    fc.integer({ min: 0, max: 4 }).map((n) => answered({ state: 'succeeded', images: Array.from({ length: n }, () => ({ url: 'https://p/i' })) })),
    fc.constant(answered({ state: 'succeeded', images: [{ base64: 'AAAA' }] })),
    fc.constant(answered({ state: 'failed', code: 'content_moderated', message: 'no' })),
    fc.record({ rate_limited: fc.boolean(), retry_after_ms: fc.option(fc.double({ min: 0, max: 5000, noNaN: true })) }).map<TaskEvent>((r) => ({
      type: 'provider_failed',
      message: '503',
      ...r,
    })),
    fc.constant<TaskEvent>({ type: 'node_unconfigured', message: 'no key' }),
    fc.constant<TaskEvent>({ type: 'submit_started' }),
  );
}

/** Anything at all, at any time: late answers, duplicates, requests from outside. */
const strayEvent: fc.Arbitrary<TaskEvent> = fc.oneof(
  ...Object.values(answerFor),
  fc.constantFrom<TaskEvent>({ type: 'redelivery_requested' }, { type: 'cancel_requested' }),
);

/** What happens at one alarm: the due work's answer, or a stray event, after a wait, maybe a restart from storage. */
const step = fc.record({
  answers: fc.record(answerFor),
  stray: fc.option(strayEvent, { freq: 4 }),
  late_ms: fc.double({ min: 0, max: 3000, noNaN: true }),
  restart: fc.boolean(),
});

const setup = fc.record({
  callback: fc.boolean(),
  nodes: fc.integer({ min: 1, max: 3 }),
  images: fc.integer({ min: 1, max: 4 }),
  perImage: fc.integer({ min: 1, max: 9 }),
  random: fc.double({ min: 0, max: 0.999, noNaN: true }),
});

describe('the task machine, driven by random answers at random times', () => {
  it('moves status only forward, ends by its deadline, resolves billing once, never charges more than reserved, and keeps its alarm in the future', () => {
    fc.assert(
      fc.property(setup, fc.array(step, { minLength: 1, maxLength: 80 }), (s, steps) => {
        const config: MachineConfig = { pollInitialMs: 250, pollMaxMs: 4000, webhookScheduleS: [1, 2.5, 4], random: () => s.random };
        let record: TaskRecord = newRecord({ callback: s.callback, nodes: s.nodes, images: s.images, credits: s.images * s.perImage });
        let now = record.created_at;
        let settlements = 0;

        const apply = (event: TaskEvent) => {
          const before = record;
          const result = transition(record, event, now, config);
          if (!result.ok) return;
          record = result.record;
          expect(RANK[record.status]).toBeGreaterThanOrEqual(RANK[before.status]);
          if (isTerminal(before.status)) expect(record.status).toBe(before.status);
          if (!before.billing.done && record.billing.done) settlements++;
          // A cancel is accepted only before any provider generates the task.
          if (event.type === 'cancel_requested' && record.status === 'canceled') expect(before.status).toBe('pending');
          for (const effect of result.effects) if (effect.type === 'status_changed') expect(effect.status).toBe(record.status);
        };

        const checkAlarm = () => {
          const at = alarmAt(record, now);
          if (due(record).length === 0) expect(at).toBeNull();
          else {
            expect(Number.isInteger(at)).toBe(true);
            expect(at!).toBeGreaterThan(now);
          }
          return at;
        };

        for (const { answers, stray, late_ms, restart } of steps) {
          const at = checkAlarm();
          if (at === null) break;
          // The alarm may fire late (a busy runtime, a restart), never early.
          now = at + late_ms;
          for (let work = dueNow(record, now); work; work = dueNow(record, now)) {
            apply(answers[work]);
            // The same answer again would change nothing more; the shell bounds its steps per run too.
            if (dueNow(record, now) === work) break;
          }
          if (now >= record.deadline_at) expect(isTerminal(record.status)).toBe(true);
          if (stray) apply(stray);
          if (restart) record = forStorage(record);
        }

        // Whatever happened, once the world answers well the task ends with its books closed.
        const good: Record<Work, TaskEvent> = {
          deadline: { type: 'deadline_passed' },
          submit: { type: 'deadline_passed' },
          poll: { type: 'deadline_passed' },
          store: { type: 'store_failed', message: 'gone', retryable: false },
          settle: { type: 'billing_acknowledged' },
          webhook: { type: 'webhook_answered', status_code: 200, error: null },
          snapshot: { type: 'snapshot_written' },
        };
        for (let i = 0; i < 20; i++) {
          const at = checkAlarm();
          if (at === null) break;
          now = Math.max(at, record.deadline_at);
          for (let work = dueNow(record, now); work; work = dueNow(record, now)) apply(good[work]);
        }
        expect(isTerminal(record.status)).toBe(true);
        expect(record.completed_at!).toBeLessThanOrEqual(Math.max(record.deadline_at, now));
        expect(due(record)).toEqual([]);
        expect(settlements).toBe(1);
        expect(record.charge).toBeGreaterThanOrEqual(0);
        expect(record.charge!).toBeLessThanOrEqual(record.credits);
        if (record.status !== 'succeeded') expect(record.charge).toBe(0);
        expect(record.completed_at! - record.created_at).toBeLessThanOrEqual(DEADLINE_MS + 3000);
      }),
      { numRuns: 500 },
    );
  });
});
