import { describe, expect, it } from 'vitest';
import { alarmAt, due, dueNow, forStorage } from '../../src/tasks/task-due';
import { type TaskEvent, transition } from '../../src/tasks/task-machine';
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

describe('a new task', () => {
  it('is pending with its first submit due now and its deadline ahead', () => {
    const record = newRecord();
    expect(record.status).toBe('pending');
    expect(due(record)).toEqual([
      { work: 'deadline', at: T0 + DEADLINE_MS },
      { work: 'submit', at: T0 },
    ]);
    expect(dueNow(record, T0)).toBe('submit');
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

describe('inline (base64) results', () => {
  const inline: TaskEvent = {
    type: 'provider_answered',
    step: { state: 'succeeded', images: [{ base64: 'iVBORw0KGgo=' }] },
    provider: 'openai',
    node: 'node7',
    file_ids: ['img_0'],
  };

  it('are never saved: the saved record repeats the step that produced them', () => {
    const record = run(newRecord(), [T0, inline]);
    expect(record.run.phase).toBe('store');
    const saved = forStorage(record);
    expect(JSON.stringify(saved)).not.toContain('iVBORw0KGgo');
    expect(saved.run).toMatchObject({ phase: 'submit', images: [] });
  });

  it('a transient failure to store them asks the provider again', () => {
    const record = run(newRecord(), [T0, inline], [T0, { type: 'store_failed', message: 'R2 down', retryable: true }]);
    expect(record.run).toMatchObject({ phase: 'submit', images: [], retries: 1 });
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
    const record = newRecord();
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
  it('are reported so the account can list tasks by status; final ones go with the settlement', () => {
    expect(transition(newRecord(), accepted(), T0, CONFIG)).toMatchObject({ effects: [{ type: 'status_changed', status: 'processing' }] });
    const processing = run(newRecord(), [T0, accepted()]);
    expect(transition(processing, accepted(), T0 + 100, CONFIG)).toMatchObject({ effects: [] });
    expect(transition(processing, { type: 'deadline_passed' }, T0 + DEADLINE_MS, CONFIG)).toMatchObject({ effects: [] });
  });
});
