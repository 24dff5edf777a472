import { describe, expect, it } from 'vitest';
import { readStoredRecord, TASK_RECORD_VERSION } from '../../src/tasks/task-record';
import { renderTask } from '../../src/tasks/task-view';

/** A finished task as version 1 stored it: the public view itself, with the runner's state beside it. */
const v1 = {
  view: {
    task_id: 'task_old',
    status: 'succeeded' as const,
    model: 'kling-image-o1',
    input: { prompt: 'an old cat', num_images: 2 },
    credits: 8,
    output: { images: [{ url: 'https://api.example.com/api/v1/files/img_a', width: 8, height: 8, content_type: 'image/png' }] },
    error: null,
    callback_url: 'https://hooks.example.com/x',
    webhook: {
      url: 'https://hooks.example.com/x',
      status: 'pending' as const,
      attempts: 1,
      last_status_code: 503,
      last_error: 'receiver answered 503',
      next_attempt_at: '2026-11-01T00:00:05.000Z',
    },
    provider: 'wavespeed',
    node: 'node12',
    created_at: '2026-11-01T00:00:00.000Z',
    updated_at: '2026-11-01T00:00:04.000Z',
    completed_at: '2026-11-01T00:00:03.500Z',
  },
  account_id: 'acct_old',
  request: { model: 'kling-image-o1', prompt: 'an old cat', num_images: 2, callback_url: 'https://hooks.example.com/x' },
  public_base_url: 'https://api.example.com',
  run: { phase: 'store' as const, node_index: 0, retries: 0, polls: 3, handle: null, images: [], file_ids: [], next_at: 1761955203500.25, deadline_at: 1761955800000 },
  billing: { charge: 8, done: true, next_at: null, failures: 0 },
  snapshot: { done: false, next_at: 1761955203500, failures: 0 },
  webhook_id: 'msg_task_old',
};

describe('stored task records', () => {
  it('upgrades a version 1 record on read, keeping what its owner sees', () => {
    const record = readStoredRecord(v1, () => ({ images_requested: 2, node_count: 1 }));
    expect(record).toMatchObject({
      v: TASK_RECORD_VERSION,
      charge: 8,
      images_requested: 2,
      webhook: { id: 'msg_task_old', status: 'pending', attempts: 1, next_at: Date.parse('2026-11-01T00:00:05.000Z') },
    });
    expect(Number.isInteger(record.run.next_at)).toBe(true);
    const { webhook: _webhook, ...view } = renderTask(record);
    const { webhook: _old, input: _input, ...old } = v1.view;
    expect(view).toMatchObject(old);
    expect(renderTask(record).webhook).toEqual(v1.view.webhook);
  });

  it('reads a current record as it is', () => {
    const record = readStoredRecord(v1, () => ({ images_requested: 2, node_count: 1 }));
    expect(readStoredRecord(record, () => ({ images_requested: 9, node_count: 9 }))).toBe(record);
  });
});
