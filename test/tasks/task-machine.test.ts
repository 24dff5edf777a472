import { describe, expect, it } from 'vitest';
import { alarmAt, due, dueNow } from '../../src/tasks/task-due';
import { MAX_CALLBACK_POLLS, type TaskEvent, transition } from '../../src/tasks/task-machine';
import { QUEUE_RECHECK_MS, SLOT_ATTEMPTS } from '../../src/tasks/task-slot';
import { renderTask } from '../../src/tasks/task-view';
import { CONFIG, DEADLINE_MS, newRecord, run, T0 } from './machine-fixtures';

const accepted = (handle = 'job-1'): TaskEvent => ({
  type: 'provider_answered',
  step: { state: 'pending', handle },
  provider: 'bfl',
  node: 'node41',
  file_ids: [],
});
const finished = (count = 1): TaskEvent => ({
  type: 'provider_answered',
  step: { state: 'succeeded', images: Array.from({ length: count }, (_, i) => ({ url: `https://cdn.example.com/${i}.png` })) },
  provider: 'bfl',
  node: 'node41',
  file_ids: Array.from({ length: count }, (_, i) => `img_${i}`),
});
const stored = (count = 1): TaskEvent => ({
  type: 'results_stored',
  images: Array.from({ length: count }, (_, i) => ({ url: `https://api.example.com/api/v1/files/img_${i}`, width: 8, height: 8, content_type: 'image/png' })),
});
const transient = (extra: Partial<Extract<TaskEvent, { type: 'provider_failed' }>> = {}): TaskEvent => ({
  type: 'provider_failed',
  message: 'bfl answered 503',
  rate_limited: false,
  retry_after_ms: null,
  ...extra,
});

const slotGranted: TaskEvent = { type: 'slot_answered', pool: 'bfl', answer: { granted: true, lease_ms: 10_000 } };
const slotQueued = (position: number): TaskEvent => ({ type: 'slot_answered', pool: 'bfl', answer: { granted: false, position } });

describe('a new task', () => {
  it('is pending, asks its provider account for a submit slot now, and submits once granted, its deadline ahead', () => {
    const record = newRecord();
    expect(record.status).toBe('pending');
    expect(due(record)).toEqual([
      { work: 'deadline', at: T0 + DEADLINE_MS },
      { work: 'acquire', at: T0 },
    ]);
    expect(dueNow(record, T0)).toBe('acquire');
    expect(dueNow(run(record, [T0, slotGranted]), T0)).toBe('submit');
  });
});

describe('the provider steps', () => {
  it('an accepted job is processing, with its first poll one initial interval away, and names its provider and node', () => {
    const record = run(newRecord(), [T0, accepted()]);
    expect(record).toMatchObject({ status: 'processing', provider: 'bfl', node: 'node41' });
    expect(record.run).toMatchObject({ phase: 'poll', handle: 'job-1', next_at: T0 + 100 });
  });

  it('a poll that finds the job still running changes nothing the customer sees', () => {
    const accepted1 = run(newRecord(), [T0, accepted()]);
    const polled = run(accepted1, [T0 + 100, accepted()]);
    expect(polled.updated_at).toBe(T0);
    expect(polled.run.polls).toBe(2);
  });

  it('polls back off by half again each time, up to the maximum', () => {
    let record = run(newRecord(), [T0, accepted()]);
    const waits: number[] = [];
    for (let i = 0; i < 8; i++) {
      const at = record.run.next_at;
      record = run(record, [at, accepted()]);
      waits.push(record.run.next_at - at);
    }
    expect(waits).toEqual([150, 225, 338, 506, 759, 1000, 1000, 1000]);
  });

  it('a finished job is stored, then the task succeeds and charges its price', () => {
    let record = run(newRecord({ callback: true }), [T0, accepted()], [T0 + 100, finished()]);
    expect(record.run).toMatchObject({ phase: 'store', file_ids: ['img_0'] });
    expect(dueNow(record, T0 + 100)).toBe('store');
    record = run(record, [T0 + 200, stored()]);
    expect(record).toMatchObject({ status: 'succeeded', charge: 10, completed_at: T0 + 200, error: null });
    expect(record.images).toHaveLength(1);
    expect(due(record)).toEqual([
      { work: 'settle', at: T0 + 200 },
      { work: 'webhook', at: T0 + 200 },
    ]);
  });

  it('a provider that returns fewer images than asked for is paid for the ones it delivered', () => {
    const record = run(newRecord({ images: 4, credits: 20 }), [T0, finished(3)], [T0, stored(3)]);
    expect(record.charge).toBe(15);
  });

  it('a provider that returns no image at all fails the task as moderated, refunded', () => {
    const record = run(newRecord(), [T0, finished(0)]);
    expect(record).toMatchObject({ status: 'failed', charge: 0, error: { code: 'content_moderated' } });
  });

  it("a provider's final failure fails the task with its code, refunded", () => {
    const refused: TaskEvent = {
      type: 'provider_answered',
      step: { state: 'failed', code: 'content_moderated', message: 'Request Moderated' },
      provider: 'bfl',
      node: 'node41',
      file_ids: [],
    };
    const record = run(newRecord(), [T0, refused]);
    expect(record).toMatchObject({ status: 'failed', charge: 0, error: { code: 'content_moderated', message: 'Request Moderated' } });
    expect(record.provider).toBeNull();
  });

  it('retries a transient failure with a growing backoff, keeping the status', () => {
    const record = run(newRecord(), [T0, transient()]);
    expect(record.status).toBe('pending');
    expect(record.run).toMatchObject({ phase: 'submit', retries: 1, next_at: T0 + 75 });
  });

  it('waits at least what Retry-After asks, rounded up to whole milliseconds', () => {
    const record = run(newRecord(), [T0, transient({ rate_limited: true, retry_after_ms: 2000.4 })]);
    expect(record.run.next_at).toBe(T0 + 2001);
  });

  it('moves to the next backend node after three failed submits', () => {
    const record = run(newRecord({ nodes: 2 }), [T0, transient()], [T0 + 1, transient()], [T0 + 2, transient()]);
    expect(record.run).toMatchObject({ node_index: 1, retries: 0, next_at: T0 + 2 });
    expect(record.status).toBe('pending');
  });

  it('fails provider_unavailable, refunded, when the last node failed three submits', () => {
    const record = run(newRecord(), [T0, transient()], [T0 + 1, transient()], [T0 + 2, transient()]);
    expect(record).toMatchObject({ status: 'failed', charge: 0, error: { code: 'provider_unavailable' } });
    expect(record.error!.message).toContain('bfl answered 503');
  });

  it('waits out a rate-limited last node instead of failing it', () => {
    const limited = transient({ rate_limited: true });
    const record = run(newRecord(), [T0, limited], [T0 + 1, limited], [T0 + 2, limited], [T0 + 3, limited]);
    expect(record.status).toBe('pending');
    expect(record.run.retries).toBe(4);
  });

  it('moves on at once from a node whose key is not configured', () => {
    const unconfigured: TaskEvent = { type: 'node_unconfigured', message: 'BFL_API_KEY is not set' };
    expect(run(newRecord({ nodes: 2 }), [T0, unconfigured]).run.node_index).toBe(1);
    expect(run(newRecord(), [T0, unconfigured])).toMatchObject({ status: 'failed', error: { code: 'provider_unavailable' } });
  });

  it('fails the task, refunded, when the node of a polled job is gone', () => {
    const record = run(newRecord({ nodes: 2 }), [T0, accepted()], [T0 + 100, { type: 'node_unconfigured', message: 'node41 is gone' }]);
    expect(record).toMatchObject({ status: 'failed', charge: 0, error: { code: 'provider_error' } });
  });

  it('a synchronous call in flight makes the task processing', () => {
    expect(run(newRecord(), [T0, { type: 'submit_started' }]).status).toBe('processing');
  });

  it('fails the task when its results cannot be stored for good, and retries a transient storage failure', () => {
    const storing = run(newRecord(), [T0, finished()]);
    expect(run(storing, [T0, { type: 'store_failed', message: 'too large', retryable: false }])).toMatchObject({
      status: 'failed',
      error: { code: 'provider_error', message: 'The result could not be stored: too large' },
    });
    const retrying = run(storing, [T0, { type: 'store_failed', message: 'download answered 503', retryable: true }]);
    expect(retrying.run).toMatchObject({ phase: 'store', retries: 1, next_at: T0 + 75 });
  });
});

describe('results the provider sent inline', () => {
  const spooled = { spooled: { file_id: 'img_0', width: 1024, height: 1024, content_type: 'image/png' } };
  const inline: TaskEvent = { type: 'provider_answered', step: { state: 'succeeded', images: [spooled] }, provider: 'openai', node: 'node7', file_ids: ['img_0'] };

  it('were stored while the answer was read: the record keeps their description, under the file ids they were stored as', () => {
    const record = run(newRecord(), [T0, inline]);
    expect(record.run).toMatchObject({ phase: 'store', images: [spooled], file_ids: ['img_0'] });
  });

  it('a transient failure in the store step retries that step, never the provider (which would generate and bill again)', () => {
    const record = run(newRecord(), [T0, inline], [T0, { type: 'store_failed', message: 'R2 down', retryable: true }]);
    expect(record.run).toMatchObject({ phase: 'store', images: [spooled], retries: 1 });
  });
});

describe('the deadline', () => {
  it('fails a running task as timed out, refunded, once it has passed and not before', () => {
    const record = run(newRecord(), [T0, accepted()]);
    expect(run(record, [T0 + DEADLINE_MS - 1, { type: 'deadline_passed' }]).status).toBe('processing');
    expect(run(record, [T0 + DEADLINE_MS, { type: 'deadline_passed' }])).toMatchObject({
      status: 'failed',
      charge: 0,
      error: { code: 'timeout' },
    });
  });

  it('comes first among due work', () => {
    const record = run(newRecord(), [T0, accepted()]);
    expect(dueNow(record, T0 + DEADLINE_MS + 5)).toBe('deadline');
  });

  it('a provider answer arriving after the task ended changes nothing', () => {
    const ended = run(newRecord(), [T0, accepted()], [T0 + DEADLINE_MS, { type: 'deadline_passed' }]);
    expect(run(ended, [T0 + DEADLINE_MS + 1, finished()])).toEqual(ended);
    expect(run(ended, [T0 + DEADLINE_MS + 1, stored()])).toEqual(ended);
  });
});

describe('a finished task', () => {
  const succeeded = (callback = true) => run(newRecord({ callback }), [T0, finished()], [T0, stored()]);

  it('retries settling until the account acknowledges it, once', () => {
    let record = run(succeeded(false), [T0, { type: 'billing_failed' }]);
    expect(record.billing).toEqual({ done: false, next_at: T0 + 75, failures: 1 });
    record = run(record, [T0 + 75, { type: 'billing_acknowledged' }], [T0 + 80, { type: 'billing_failed' }]);
    expect(record.billing).toMatchObject({ done: true, next_at: null });
  });

  it('writes its snapshot only after billing and the webhook are done', () => {
    let record = succeeded();
    expect(due(record).map((d) => d.work)).toEqual(['settle', 'webhook']);
    record = run(record, [T0, { type: 'billing_acknowledged' }]);
    expect(due(record).map((d) => d.work)).toEqual(['webhook']);
    record = run(record, [T0, { type: 'webhook_answered', status_code: 204, error: null }]);
    expect(due(record)).toEqual([{ work: 'snapshot', at: T0 }]);
    record = run(record, [T0, { type: 'snapshot_written' }]);
    expect(due(record)).toEqual([]);
    expect(alarmAt(record, T0)).toBeNull();
  });

  it('retries a failing webhook on its schedule, then gives up', () => {
    const failing: TaskEvent = { type: 'webhook_answered', status_code: 500, error: 'receiver answered 500' };
    let record = run(succeeded(), [T0, failing]);
    expect(record.webhook).toMatchObject({ status: 'pending', attempts: 1, next_at: T0 + 1000, last_status_code: 500 });
    record = run(record, [T0 + 1000, failing]);
    expect(record.webhook).toMatchObject({ status: 'pending', attempts: 2, next_at: T0 + 3000 });
    record = run(record, [T0 + 3000, failing]);
    expect(record.webhook).toMatchObject({ status: 'failed', attempts: 3, next_at: null });
  });

  it('stops at once on 410 Gone', () => {
    const record = run(succeeded(), [T0, { type: 'webhook_answered', status_code: 410, error: 'receiver answered 410' }]);
    expect(record.webhook).toMatchObject({ status: 'failed', attempts: 1, last_error: 'receiver answered 410 Gone; not retried' });
  });

  it('does not spend an attempt when signing failed', () => {
    const record = run(succeeded(), [T0, { type: 'webhook_signing_failed' }]);
    expect(record.webhook).toMatchObject({ status: 'pending', attempts: 0, next_at: T0 + 5000 });
  });

  it('redelivers its webhook with the same id and a fresh schedule, dropping its snapshot', () => {
    const delivered = run(succeeded(), [T0, { type: 'billing_acknowledged' }], [T0, { type: 'webhook_answered', status_code: 200, error: null }], [T0, { type: 'snapshot_written' }]);
    const result = transition(delivered, { type: 'redelivery_requested' }, T0 + 10, CONFIG);
    expect(result.ok && result.effects).toEqual([{ type: 'drop_snapshot' }]);
    expect(result.ok && result.record.webhook).toMatchObject({ id: 'msg_task_test', status: 'pending', attempts: 0, next_at: T0 + 10 });
    expect(result.ok && result.record.snapshot).toEqual({ done: false, next_at: T0 + 10, failures: 0 });
  });

  it('refuses a redelivery while running or without a callback URL', () => {
    expect(transition(newRecord({ callback: true }), { type: 'redelivery_requested' }, T0, CONFIG)).toEqual({ ok: false, reason: 'not_terminal' });
    expect(transition(succeeded(false), { type: 'redelivery_requested' }, T0, CONFIG)).toEqual({ ok: false, reason: 'no_callback_url' });
  });
});

describe('the alarm', () => {
  it('is set to the earliest due work, in whole milliseconds, never at or before now', () => {
    const record = run(newRecord(), [T0, slotGranted]);
    const fractional = { ...record, run: { ...record.run, next_at: T0 + 782.0093 } };
    // The stuck-task defect: an alarm fired at the truncated time found nothing due and re-armed itself to that same time.
    expect(dueNow(fractional, T0 + 782)).toBeNull();
    expect(alarmAt(fractional, T0 + 782)).toBe(T0 + 783);
    expect(alarmAt(fractional, T0)).toBe(T0 + 783);
  });

  it('is strictly in the future even when work is overdue', () => {
    expect(alarmAt(newRecord(), T0 + 5000)).toBe(T0 + 5001);
    expect(alarmAt(newRecord(), T0 + 5000.7)).toBe(T0 + 5001);
  });
});

describe('cancel', () => {
  it('cancels a pending task, refunded in full, with its webhook and settlement due', () => {
    const result = transition(newRecord({ callback: true }), { type: 'cancel_requested' }, T0 + 5, CONFIG);
    expect(result.ok && result.record).toMatchObject({
      status: 'canceled',
      charge: 0,
      completed_at: T0 + 5,
      error: { code: 'canceled' },
      webhook: { status: 'pending', next_at: T0 + 5 },
    });
    expect(result.ok && due(result.record).map((d) => d.work)).toEqual(['settle', 'webhook']);
  });

  it('cancels a task whose submits were refused and wait to be retried', () => {
    const waiting = run(newRecord(), [T0, transient({ rate_limited: true, retry_after_ms: 5000 })]);
    expect(run(waiting, [T0 + 1, { type: 'cancel_requested' }]).status).toBe('canceled');
  });

  it('refuses once a provider accepted the job, a synchronous call is out, or the task ended', () => {
    const refused = { ok: false, reason: 'not_cancelable' };
    expect(transition(run(newRecord(), [T0, accepted()]), { type: 'cancel_requested' }, T0, CONFIG)).toEqual(refused);
    expect(transition(run(newRecord(), [T0, { type: 'submit_started' }]), { type: 'cancel_requested' }, T0, CONFIG)).toEqual(refused);
    expect(transition(run(newRecord(), [T0, finished()], [T0, stored()]), { type: 'cancel_requested' }, T0, CONFIG)).toEqual(refused);
  });

  it('a provider answer after the cancel changes nothing', () => {
    const canceled = run(newRecord(), [T0, { type: 'cancel_requested' }]);
    expect(run(canceled, [T0 + 1, accepted()])).toEqual(canceled);
  });
});

describe('status changes of a running task', () => {
  it('are reported, final ones included, so the shell logs each transition and the account lists tasks by status', () => {
    expect(transition(newRecord(), accepted(), T0, CONFIG)).toMatchObject({ effects: [{ type: 'status_changed', status: 'processing' }] });
    const processing = run(newRecord(), [T0, accepted()]);
    expect(transition(processing, accepted(), T0 + 100, CONFIG)).toMatchObject({ effects: [] });
    expect(transition(processing, { type: 'deadline_passed' }, T0 + DEADLINE_MS, CONFIG)).toMatchObject({
      effects: [{ type: 'node_outcome' }, { type: 'status_changed', status: 'failed' }],
    });
  });
});

describe('provider capacity (a submit slot per task, src/capacity/)', () => {
  const queued = (position = 7) => run(newRecord(), [T0, slotQueued(position)]);

  it('without a free slot the task is queued with its position, submits nothing, and asks again only as a safety net', () => {
    const record = queued(7);
    expect(record).toMatchObject({ status: 'queued', updated_at: T0, slot: { status: 'queued', pool: 'bfl', position: 7 } });
    expect(renderTask(record)).toMatchObject({ status: 'queued', queue_position: 7 });
    expect(due(record)).toEqual([
      { work: 'deadline', at: T0 + DEADLINE_MS },
      { work: 'acquire', at: T0 + QUEUE_RECHECK_MS },
    ]);
    expect(transition(record, slotQueued(3), T0 + 10, CONFIG)).toMatchObject({ effects: [] });
  });

  it('positions only go down: a later, higher one (a newcomer passed it, or pushes crossed) is not shown', () => {
    const record = run(queued(7), [T0 + 10, slotQueued(4)], [T0 + 20, slotQueued(6)]);
    expect(renderTask(record).queue_position).toBe(4);
    expect(record.updated_at).toBe(T0 + 10);
  });

  it('a pushed grant makes the queued task next and due to submit at once; the slot is kept while the job runs and given back when it ends', () => {
    const granted = run(queued(2), [T0 + 500, slotGranted]);
    expect(granted).toMatchObject({ status: 'queued', slot: { status: 'held', position: 1 }, run: { next_at: T0 + 500 } });
    expect(renderTask(granted).queue_position).toBe(1);
    expect(dueNow(granted, T0 + 500)).toBe('submit');
    const polling = run(granted, [T0 + 600, accepted()]);
    expect(polling).toMatchObject({ status: 'processing', slot: { status: 'held' } });
    expect(renderTask(polling)).not.toHaveProperty('queue_position');
    // The lease is renewed at half its length while the job runs.
    expect(due(polling)).toContainEqual({ work: 'renew', at: T0 + 500 + 5_000 });
    const done = run(polling, [T0 + 700, finished()]);
    expect(done.slot).toMatchObject({ status: 'release', pool: 'bfl', next_at: T0 + 700 });
    expect(dueNow(done, T0 + 700)).toBe('release');
    expect(run(done, [T0 + 700, { type: 'slot_released' }]).slot).toMatchObject({ status: 'free', pool: null, next_at: null });
  });

  it('a provider 429 despite the slot is no retry: the slot is asked for again, reporting the 429, and the task waits its turn', () => {
    const held = run(newRecord(), [T0, slotGranted]);
    const refused = run(held, [T0 + 10, transient({ rate_limited: true, retry_after_ms: 2000 })]);
    expect(refused.run.retries).toBe(0);
    expect(refused.slot).toMatchObject({ status: 'ask', pool: 'bfl', throttled: { retry_after_ms: 2000 }, next_at: T0 + 10 });
    expect(dueNow(refused, T0 + 10)).toBe('acquire');
    expect(run(refused, [T0 + 20, slotQueued(1)])).toMatchObject({ status: 'queued', slot: { status: 'queued', throttled: null, position: 1 } });
  });

  it('a queued task can be canceled, refunded in full, and gives its place back', () => {
    const canceled = run(queued(), [T0 + 100, { type: 'cancel_requested' }]);
    expect(canceled).toMatchObject({ status: 'canceled', charge: 0, slot: { status: 'release', pool: 'bfl' } });
    expect(dueNow(canceled, T0 + 100)).toBe('release');
  });

  it('a queued task meets its deadline like any other: failed timeout, refunded, its place given back', () => {
    const timedOut = run(queued(), [T0 + DEADLINE_MS, { type: 'deadline_passed' }]);
    expect(timedOut).toMatchObject({ status: 'failed', charge: 0, error: { code: 'timeout' }, slot: { status: 'release' } });
  });

  it('a grant pushed to a task that ended meanwhile is given back', () => {
    const canceled = run(newRecord(), [T0, { type: 'cancel_requested' }]);
    expect(canceled.slot?.status).toBe('free');
    expect(run(canceled, [T0 + 5, slotGranted]).slot).toMatchObject({ status: 'release', pool: 'bfl', next_at: T0 + 5 });
  });

  it('goes on without a slot when the capacity object cannot be reached, after a few tries', () => {
    const down: TaskEvent = { type: 'slot_unreachable', message: 'down' };
    const record = run(newRecord(), [T0, down], [T0 + 2_000, down]);
    expect(dueNow(record, T0 + 2_000)).toBeNull();
    const bypassing = run(record, [T0 + 6_000, down]);
    expect(bypassing.slot).toMatchObject({ status: 'bypass', failures: SLOT_ATTEMPTS });
    expect(dueNow(bypassing, T0 + 6_000)).toBe('submit');
  });

  it('a slot taken back while the job runs (its lease ran out) leaves the job running', () => {
    const polling = run(newRecord(), [T0, slotGranted], [T0 + 1, accepted()]);
    const lost = run(polling, [T0 + 5_001, { type: 'lease_renewed', lease_ms: null }]);
    expect(lost).toMatchObject({ status: 'processing', slot: { status: 'free' }, run: { phase: 'poll' } });
  });

  it('moving to the next backend node gives the slot back, then asks the next provider account', () => {
    const held = run(newRecord({ nodes: 2 }), [T0, slotGranted]);
    const moved = run(held, [T0 + 1, { type: 'node_unconfigured', message: 'no key' }]);
    expect(moved).toMatchObject({ run: { node_index: 1 }, slot: { status: 'release', pool: 'bfl' } });
    expect(dueNow(moved, T0 + 1)).toBe('release');
    const released = run(moved, [T0 + 2, { type: 'slot_released' }]);
    expect(released.slot).toMatchObject({ status: 'ask', pool: null, next_at: T0 + 2 });
  });
});

describe('provider callbacks and the poll schedule (src/tasks/poll-schedule.ts)', () => {
  const HASH = 'a'.repeat(64);
  const expected = { p50_ms: 10_000, p90_ms: 13_800, samples: 50 };
  const watched = (callback: boolean): TaskEvent => ({
    ...(accepted() as Extract<TaskEvent, { type: 'provider_answered' }>),
    poll_hints: { expected, callback, min_interval_ms: 0 },
    callback_token_hash: callback ? HASH : null,
  });
  const callback = (token_hash = HASH): TaskEvent => ({ type: 'callback_received', token_hash });

  it('an accepted submit keeps its schedule hints and the hash of its callback token, and polls when the job is likely to end', () => {
    const record = run(newRecord(), [T0, watched(false)]);
    expect(record.run).toMatchObject({ submitted_at: T0, callback_token_hash: null, callback_polls: 0, poll_hints: { callback: false } });
    // No poll before the likely window, however short POLL_MAX_MS: the 10th percentile (7.2 s) less one step (400 ms).
    expect(record.run.next_at).toBe(T0 + 6846);
    const withCallback = run(newRecord(), [T0, watched(true)]);
    expect(withCallback.run).toMatchObject({ callback_token_hash: HASH });
    // The callback is expected: the poll is the safety net, POLL_MAX_MS away (the 90th percentile is further).
    expect(withCallback.run.next_at).toBe(T0 + 1000);
  });

  it('a callback with the job’s token makes the poll due now, and the poll, not the callback, moves the task', () => {
    const polling = run(newRecord(), [T0, watched(true)]);
    const hinted = run(polling, [T0 + 700, callback()]);
    expect(hinted).toMatchObject({ status: 'processing', updated_at: T0, version: polling.version, run: { next_at: T0 + 700, callback_polls: 1 } });
    expect(dueNow(hinted, T0 + 700)).toBe('poll');
    // The provider says it is still running after all: the task waits for its schedule again.
    const stillRunning = run(hinted, [T0 + 710, accepted()]);
    expect(stillRunning.status).toBe('processing');
    expect(stillRunning.run.next_at).toBe(T0 + 1_710);
    expect(run(stillRunning, [T0 + 720, finished()]).run.phase).toBe('store');
  });

  it('refuses a callback with any other token, or for a job that asked for none, changing nothing', () => {
    const polling = run(newRecord(), [T0, watched(true)]);
    expect(transition(polling, callback('b'.repeat(64)), T0 + 1, CONFIG)).toEqual({ ok: false, reason: 'unknown_callback' });
    const noCallback = run(newRecord(), [T0, watched(false)]);
    expect(transition(noCallback, callback(), T0 + 1, CONFIG)).toEqual({ ok: false, reason: 'unknown_callback' });
    expect(transition(newRecord(), callback(), T0 + 1, CONFIG)).toEqual({ ok: false, reason: 'unknown_callback' });
  });

  it('a replayed callback changes nothing once the job was seen ended, and at most a few make polls due early', () => {
    const polling = run(newRecord(), [T0, watched(true)]);
    const storing = run(polling, [T0 + 700, callback()], [T0 + 701, finished()]);
    expect(run(storing, [T0 + 702, callback()])).toBe(storing);
    const done = run(storing, [T0 + 750, stored()]);
    expect(done.status).toBe('succeeded');
    expect(run(done, [T0 + 9_000, callback()])).toBe(done);
    let record = polling;
    for (let i = 1; i <= MAX_CALLBACK_POLLS; i++) {
      record = run(record, [T0 + i * 100, callback()], [T0 + i * 100 + 1, accepted()]);
    }
    expect(record.run.callback_polls).toBe(MAX_CALLBACK_POLLS);
    // One more replay: the poll stays where the schedule put it.
    expect(run(record, [T0 + 500, callback()])).toBe(record);
  });
});

describe('node health (src/health/)', () => {
  const unavailable: TaskEvent = { type: 'node_unavailable', node: 'node63', retry_at: T0 + 30_000 };
  /** The node outcome a transition reports, if any. */
  const outcomeOf = (record: ReturnType<typeof newRecord>, event: TaskEvent, at: number) => {
    const result = transition(record, event, at, CONFIG);
    if (!result.ok) throw new Error(`${event.type} refused`);
    return result.effects.filter((effect) => effect.type === 'node_outcome');
  };
  const failedStep = (code: 'content_moderated' | 'provider_error' | 'provider_unavailable' | 'invalid_input_image'): TaskEvent => ({
    type: 'provider_answered',
    step: { state: 'failed', code, message: code },
    provider: 'bfl',
    node: 'node41',
    file_ids: [],
  });

  it('a node out of rotation is left at once for the next, spending none of its tries and counting nothing against it', () => {
    const retrying = run(newRecord({ nodes: 2 }), [T0, transient()]);
    const result = transition(retrying, unavailable, T0 + 10, CONFIG);
    expect(result.ok && result.record).toMatchObject({ status: 'pending', run: { node_index: 1, retries: 0, next_at: T0 + 10 } });
    expect(outcomeOf(retrying, unavailable, T0 + 10)).toEqual([]);
  });

  it('with no node left, the task fails at once, provider_unavailable, refunded, saying when the node is tried again', () => {
    const record = run(newRecord(), [T0, unavailable]);
    expect(record).toMatchObject({ status: 'failed', charge: 0, completed_at: T0, error: { code: 'provider_unavailable' } });
    expect(record.error!.message).toContain(`node63 is out of rotation after repeated failures; it is tried again from ${new Date(T0 + 30_000).toISOString()}`);
  });

  it('means nothing once the job is with a provider, or the task ended', () => {
    const polling = run(newRecord({ nodes: 2 }), [T0, accepted()]);
    expect(run(polling, [T0 + 5, unavailable])).toEqual(polling);
    const ended = run(newRecord(), [T0, { type: 'cancel_requested' }]);
    expect(run(ended, [T0 + 5, unavailable])).toEqual(ended);
  });

  it('a delivered result counts for the node, with the time from the accepted submit (or the synchronous call) to the result', () => {
    const polling = run(newRecord(), [T0, accepted()], [T0 + 1_000, accepted()]);
    expect(outcomeOf(polling, finished(), T0 + 4_200)).toEqual([{ type: 'node_outcome', node_index: 0, outcome: { kind: 'success', duration_ms: 4_200 } }]);
    const calling = run(newRecord(), [T0 + 50, { type: 'submit_started' }]);
    expect(outcomeOf(calling, finished(), T0 + 2_550)).toEqual([{ type: 'node_outcome', node_index: 0, outcome: { kind: 'success', duration_ms: 2_500 } }]);
  });

  it.each([
    ['moderation', failedStep('content_moderated'), 'neutral'],
    ['an input image the provider cannot use', failedStep('invalid_input_image'), 'neutral'],
    ['a submit refused as a request (4xx)', failedStep('provider_error'), 'neutral'],
    ['no image at all (filtered)', finished(0), 'neutral'],
    ['our key or credit refused', failedStep('provider_unavailable'), 'failure'],
  ] as const)('%s on submit counts as %s', (_case, event, kind) => {
    expect(outcomeOf(newRecord(), event, T0 + 10)).toEqual([{ type: 'node_outcome', node_index: 0, outcome: { kind } }]);
  });

  it('a job the node accepted and then lost counts against it', () => {
    const polling = run(newRecord(), [T0, accepted()]);
    expect(outcomeOf(polling, failedStep('provider_error'), T0 + 500)).toEqual([{ type: 'node_outcome', node_index: 0, outcome: { kind: 'failure' } }]);
  });

  it('a transient failure counts only when the task gives up on the node, and a 429 never', () => {
    const twice = run(newRecord({ nodes: 2 }), [T0, transient()]);
    expect(outcomeOf(newRecord({ nodes: 2 }), transient(), T0)).toEqual([]);
    const third = run(twice, [T0 + 1, transient()]);
    expect(outcomeOf(third, transient(), T0 + 2)).toEqual([{ type: 'node_outcome', node_index: 0, outcome: { kind: 'failure' } }]);
    expect(outcomeOf(third, transient({ rate_limited: true }), T0 + 2)).toEqual([]);
    expect(outcomeOf(run(newRecord(), [T0, accepted()]), transient(), T0 + 100)).toEqual([]);
  });

  it('the deadline counts against the node only when the job was with it', () => {
    const deadline: TaskEvent = { type: 'deadline_passed' };
    expect(outcomeOf(run(newRecord(), [T0, accepted()]), deadline, T0 + DEADLINE_MS)).toEqual([
      { type: 'node_outcome', node_index: 0, outcome: { kind: 'failure' } },
    ]);
    expect(outcomeOf(run(newRecord(), [T0, transient()]), deadline, T0 + DEADLINE_MS)).toEqual([]);
  });
});
