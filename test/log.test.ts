import { afterEach, describe, expect, it, vi } from 'vitest';
import { errorFields, log, scrubText } from '../src/log';

afterEach(() => vi.restoreAllMocks());

describe('the log', () => {
  it('writes one event object per call, at the console level of its severity', () => {
    const info = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const error = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    log.info('request', { route: '/healthz', status: 200 });
    log.warn('retrying', { task_id: 'task_1' });
    log.error('failed', { task_id: 'task_2' }, new Error('boom'));
    expect(info.mock.calls).toEqual([[expect.objectContaining({ level: 'info', event: 'request', route: '/healthz', status: 200 })]]);
    expect(warn.mock.calls).toEqual([[expect.objectContaining({ level: 'warn', event: 'retrying', task_id: 'task_1' })]]);
    expect(error.mock.calls).toEqual([
      [expect.objectContaining({ level: 'error', event: 'failed', task_id: 'task_2', error: expect.objectContaining({ message: 'boom' }) })],
    ]);
    const { time } = info.mock.calls[0]![0] as { time: string };
    expect(new Date(time).toISOString()).toBe(time);
  });

  it('logs an error with its cause chain', () => {
    const root = new TypeError('Network connection lost.');
    const fields = errorFields(new Error('bfl answered 502', { cause: root }));
    expect(fields).toMatchObject({ name: 'Error', message: 'bfl answered 502', cause: { name: 'TypeError', message: 'Network connection lost.' } });
    expect(errorFields('a string thrown')).toEqual({ message: 'a string thrown' });
  });

  it('masks customer keys and bearer tokens wherever they appear, keeping their first characters', () => {
    const key = `aio_${'Ab3'.repeat(11)}`;
    const masked = scrubText(`refused ${key}; Authorization: Bearer some-internal-token`);
    expect(masked).toBe(`refused ${key.slice(0, 8)}…; Authorization: Bearer …`);
    const spy = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    log.error('odd', { nested: { list: [key] } }, new Error(`lookup of ${key} failed`));
    expect(JSON.stringify(spy.mock.calls)).not.toContain(key);
  });

  it('cuts long strings, so a payload that reaches a message is not logged whole', () => {
    const long = 'x'.repeat(10_000);
    expect(scrubText(long)).toBe(`${'x'.repeat(2_000)}… (10000 characters)`);
  });
});
