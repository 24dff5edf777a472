import { describe, expect, it } from 'vitest';
import { CHAOS_MODELS } from '../../chaos/models';
import { type ChaosSettings, makePlan } from '../../chaos/plan';

const settings: ChaosSettings = {
  tasks: 300,
  seed: 7,
  restarts: 3,
  accounts: 4,
  spreadSeconds: 60,
  concurrency: 8,
  deadlineSeconds: 60,
  graceSeconds: 30,
  webhookSchedule: [1, 2, 4, 8],
  pollInitialMs: 250,
  pollMaxMs: 2000,
  watchdogSeconds: 600,
};

describe('the chaos plan', () => {
  it('is the same for the same seed and differs for another', () => {
    expect(makePlan(settings)).toEqual(makePlan(settings));
    expect(makePlan({ ...settings, seed: 8 }).tasks).not.toEqual(makePlan(settings).tasks);
  });

  it('asks for every catalog model, from every account, with a unique marker in each prompt', () => {
    const plan = makePlan(settings);
    expect(new Set(plan.tasks.map((t) => t.model))).toEqual(new Set(CHAOS_MODELS.map((m) => m.id)));
    expect(new Set(plan.tasks.map((t) => t.account)).size).toBe(settings.accounts);
    expect(new Set(plan.tasks.map((t) => t.marker)).size).toBe(settings.tasks);
    for (const t of plan.tasks) expect(String(t.body.prompt)).toContain(`(${t.marker})`);
  });

  it('spreads starts and kills over the run, kills apart and inside it', () => {
    const plan = makePlan(settings);
    expect(plan.kills).toHaveLength(settings.restarts);
    const times = plan.kills.map((k) => k.atMs);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    for (const t of times) expect(t).toBeLessThan(settings.spreadSeconds * 1000);
    expect(Math.max(...plan.tasks.map((t) => t.startAtMs))).toBeLessThanOrEqual(settings.spreadSeconds * 1000);
  });

  it('plans flaky receivers to recover within the webhook schedule', () => {
    const flaky = makePlan(settings).tasks.flatMap((t) => (t.webhook?.kind === 'flaky' ? [t.webhook.param] : []));
    expect(flaky.length).toBeGreaterThan(0);
    for (const failures of flaky) expect(failures).toBeLessThanOrEqual(settings.webhookSchedule.length);
  });
});
