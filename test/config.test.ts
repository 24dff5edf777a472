import { describe, expect, it } from 'vitest';
import { parseConfig, PRODUCTION_WEBHOOK_SCHEDULE_S } from '../src/config';

const vars = {
  ENVIRONMENT: 'production',
  TASK_DEADLINE_SECONDS: '600',
  POLL_INITIAL_MS: '1000',
  POLL_MAX_MS: '10000',
  WEBHOOK_RETRY_SCHEDULE: '',
  RATE_LIMIT_REQUESTS_PER_MINUTE: '600',
  SYNC_WAIT_SECONDS: '240',
  NODE_COOLDOWN_SECONDS: '30',
  PROVIDER_CAPACITY: '',
  CAPACITY_LEASE_SECONDS: '300',
  PROVIDER_CALLBACKS: 'on',
};

describe('the configuration', () => {
  it('is read once into typed values', () => {
    expect(parseConfig(vars)).toEqual({
      development: false,
      taskDeadlineMs: 600_000,
      pollInitialMs: 1000,
      pollMaxMs: 10_000,
      webhookScheduleS: PRODUCTION_WEBHOOK_SCHEDULE_S,
      requestsPerMinute: 600,
      syncWaitMs: 240_000,
      nodeCooldownMs: 30_000,
      providerSlots: {},
      slotLeaseMs: 300_000,
      providerCallbacks: true,
    });
    expect(PRODUCTION_WEBHOOK_SCHEDULE_S).toEqual([5, 300, 1800, 7200, 18000, 36000, 36000]);
  });

  it('reads a webhook schedule of comma-separated seconds', () => {
    expect(parseConfig({ ...vars, WEBHOOK_RETRY_SCHEDULE: '1, 2,4.5' }).webhookScheduleS).toEqual([1, 2, 4.5]);
  });

  it.each([
    [{ TASK_DEADLINE_SECONDS: '10m' }, 'TASK_DEADLINE_SECONDS: must be a whole number'],
    [{ TASK_DEADLINE_SECONDS: '0' }, 'TASK_DEADLINE_SECONDS: must be at least 1'],
    [{ POLL_INITIAL_MS: '0x10' }, 'POLL_INITIAL_MS: must be a whole number'],
    [{ WEBHOOK_RETRY_SCHEDULE: '1,soon' }, 'WEBHOOK_RETRY_SCHEDULE: must be comma-separated seconds'],
    [{ ENVIRONMENT: 'staging' }, 'ENVIRONMENT'],
    [{ RATE_LIMIT_REQUESTS_PER_MINUTE: '0' }, 'RATE_LIMIT_REQUESTS_PER_MINUTE: must be at least 1'],
    [{ PROVIDER_CAPACITY: '{"bfl": 0}' }, 'PROVIDER_CAPACITY.bfl: slots must be at least 1'],
    [{ PROVIDER_CAPACITY: 'bfl=24' }, 'PROVIDER_CAPACITY: must be a JSON object'],
    [{ POLL_MAX_MS: '500' }, 'POLL_MAX_MS: must be at least POLL_INITIAL_MS'],
  ])('refuses %j, naming the variable', (bad, message) => {
    expect(() => parseConfig({ ...vars, ...bad })).toThrow(message);
  });
});
