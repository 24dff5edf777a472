import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { alarmAt, due, dueNow, type Work } from '../../src/tasks/task-due';
import { MAX_CALLBACK_POLLS, type MachineConfig, type TaskEvent, transition } from '../../src/tasks/task-machine';
import type { TaskRecord } from '../../src/tasks/task-record';
import { renderTask } from '../../src/tasks/task-view';
import { isTerminal, type TaskStatus } from '../../src/tasks/task.schema';
import { DEADLINE_MS, newRecord } from './machine-fixtures';

const RANK: Record<TaskStatus, number> = { pending: 0, queued: 1, processing: 2, succeeded: 3, failed: 3, canceled: 3 };
const TOKEN_HASH = '1'.repeat(64);
const FORGED_HASH = '2'.repeat(64);

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
  acquire: slotAnswer(),
  renew: fc.oneof(
    fc.constantFrom<TaskEvent>({ type: 'lease_renewed', lease_ms: 2000 }, { type: 'lease_renewed', lease_ms: null }),
    fc.constant<TaskEvent>({ type: 'slot_unreachable', message: 'down' }),
  ),
  release: fc.constantFrom<TaskEvent>({ type: 'slot_released' }, { type: 'slot_unreachable', message: 'down' }),
} satisfies Record<Work, fc.Arbitrary<TaskEvent>>;

/** The capacity object's answers and pushes: a slot, a place in the queue, or silence. */
function slotAnswer(): fc.Arbitrary<TaskEvent> {
  return fc.oneof(
    fc.constant<TaskEvent>({ type: 'slot_answered', pool: 'p', answer: { granted: true, lease_ms: 2000 } }),
    fc.integer({ min: 1, max: 50 }).map<TaskEvent>((position) => ({ type: 'slot_answered', pool: 'p', answer: { granted: false, position } })),
    fc.constant<TaskEvent>({ type: 'slot_unreachable', message: 'down' }),
  );
}

function providerAnswer(): fc.Arbitrary<TaskEvent> {
  const answered = (step: Extract<TaskEvent, { type: 'provider_answered' }>['step']): TaskEvent => ({
    type: 'provider_answered',
    step,
    provider: 'p',
    node: 'n',
    file_ids: ['a', 'b', 'c', 'd'],
  });
  // An accepted submit with what the poll schedule knows of the job: recent durations or none, a callback or not.
  const watched = fc
    .record({
      expected: fc.option(fc.record({ p50_ms: fc.integer({ min: 1, max: 20_000 }), spread: fc.double({ min: 1, max: 3, noNaN: true }) })),
      callback: fc.boolean(),
      min_interval_ms: fc.constantFrom(0, 2000),
    })
    .map<TaskEvent>(({ expected, callback, min_interval_ms }) => ({
      ...(answered({ state: 'pending', handle: 'h' }) as Extract<TaskEvent, { type: 'provider_answered' }>),
      poll_hints: {
        expected: expected && { p50_ms: expected.p50_ms, p90_ms: Math.round(expected.p50_ms * expected.spread), samples: 10 },
        callback,
        min_interval_ms,
      },
      callback_token_hash: callback ? TOKEN_HASH : null,
    }));
  return fc.oneof(
    fc.constant(answered({ state: 'pending', handle: 'h' })),
    watched,
    fc.integer({ min: 0, max: 4 }).map((n) => answered({ state: 'succeeded', images: Array.from({ length: n }, () => ({ url: 'https://p/i' })) })),
    fc.constant(answered({ state: 'succeeded', images: [{ spooled: { file_id: 'img_inline', width: 8, height: 8, content_type: 'image/png' } }] })),
    fc.constant(answered({ state: 'failed', code: 'content_moderated', message: 'no' })),
    fc.record({ rate_limited: fc.boolean(), retry_after_ms: fc.option(fc.double({ min: 0, max: 5000, noNaN: true })) }).map<TaskEvent>((r) => ({
      type: 'provider_failed',
      message: '503',
      ...r,
    })),
    fc.constant<TaskEvent>({ type: 'node_unconfigured', message: 'no key' }),
    fc.constant<TaskEvent>({ type: 'submit_started' }),
    // The node's health object refused the submit: its breaker is open.
    fc.constant<TaskEvent>({ type: 'node_unavailable', node: 'n', retry_at: 1 }),
  );
}

/** Anything at all, at any time: late answers, duplicates, requests from outside. */
const strayEvent: fc.Arbitrary<TaskEvent> = fc.oneof(
  ...Object.values(answerFor),
  fc.constantFrom<TaskEvent>({ type: 'redelivery_requested' }, { type: 'cancel_requested' }),
  slotAnswer(),
  // Provider callbacks, genuine (the token submits hand out below) or forged, at any time, any number of times.
  fc.constantFrom<TaskEvent>({ type: 'callback_received', token_hash: TOKEN_HASH }, { type: 'callback_received', token_hash: FORGED_HASH }),
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
        /** The nodes whose turn reported how it ended: once each, at most. */
        const reported = new Set<number>();

        const apply = (event: TaskEvent) => {
          const before = record;
          const result = transition(record, event, now, config);
          if (event.type === 'callback_received') {
            // A callback is a hint: a forged one is refused, a genuine one at most makes the next poll due sooner.
            if (event.token_hash !== before.run.callback_token_hash) expect(result.ok).toBe(false);
            if (result.ok) {
              const { next_at, callback_polls, ...rest } = result.record.run;
              const { next_at: _next, callback_polls: _polls, ...restBefore } = before.run;
              expect({ ...result.record, run: rest }).toEqual({ ...before, run: restBefore });
              expect(next_at).toBeLessThanOrEqual(before.run.next_at);
              expect(callback_polls ?? 0).toBeLessThanOrEqual(MAX_CALLBACK_POLLS);
            }
          }
          if (!result.ok) return;
          record = result.record;
          expect(RANK[record.status]).toBeGreaterThanOrEqual(RANK[before.status]);
          if (isTerminal(before.status)) expect(record.status).toBe(before.status);
          if (!before.billing.done && record.billing.done) settlements++;
          // A cancel is accepted only before any provider generates the task.
          if (event.type === 'cancel_requested' && record.status === 'canceled') expect(['pending', 'queued']).toContain(before.status);
          // A queued task's position only goes down; it is shown only while queued.
          if (before.status === 'queued' && record.status === 'queued') {
            expect(renderTask(record).queue_position!).toBeLessThanOrEqual(renderTask(before).queue_position!);
          }
          // Nothing is held or kept at the capacity object by a task that no longer needs it, except to give it back.
          if (isTerminal(record.status)) expect(['release', 'free', 'bypass']).toContain(record.slot!.status);
          for (const effect of result.effects) if (effect.type === 'status_changed') expect(effect.status).toBe(record.status);
          // Each turn on a node is reported once, as it ends; a node out of rotation and a 429 count for nothing.
          for (const effect of result.effects) {
            if (effect.type !== 'node_outcome') continue;
            expect(effect.node_index).toBe(before.run.node_index);
            expect(reported.has(effect.node_index)).toBe(false);
            reported.add(effect.node_index);
            expect(event.type).not.toBe('node_unavailable');
            if (event.type === 'provider_failed') expect(event.rate_limited).toBe(false);
            if (effect.outcome.kind === 'success') {
              expect(record.run.phase).toBe('store');
              expect(effect.outcome.duration_ms).toBeGreaterThanOrEqual(0);
            }
          }
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
          // At most as many steps as the shell takes in one run (a 429 and a new grant can alternate at one instant).
          for (let work = dueNow(record, now), steps = 0; work && steps < 8; work = dueNow(record, now), steps++) {
            // No submit goes out without a slot (or without the capacity object, when it cannot be reached).
            if (work === 'submit') expect(['held', 'bypass', 'free']).toContain(record.slot!.status);
            apply(answers[work]);
            // The same answer again would change nothing more; the shell bounds its steps per run too.
            if (dueNow(record, now) === work) break;
          }
          if (now >= record.deadline_at) expect(isTerminal(record.status)).toBe(true);
          if (stray) apply(stray);
          // What the object saved is all a restarted one has.
          if (restart) record = structuredClone(record);
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
          acquire: { type: 'deadline_passed' },
          renew: { type: 'lease_renewed', lease_ms: 2000 },
          release: { type: 'slot_released' },
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
