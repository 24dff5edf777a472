import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { FAILURES_TO_OPEN } from '../../src/health/breaker';
import { nodeHealthStub } from '../../src/health/node-health.do';
import { type NodeSnapshot, snapshotKey } from '../../src/health/snapshot';

describe("a node's health object", () => {
  it('keeps figures per model, and publishes them to KV from its alarm, again while they are in the window', async () => {
    const node = `node_test_${crypto.randomUUID()}`;
    const stub = nodeHealthStub(env, node);
    await stub.report(node, 'model-a', { kind: 'success', duration_ms: 4_000 });
    await stub.report(node, 'model-a', { kind: 'success', duration_ms: 6_000 });
    await stub.report(node, 'model-b', { kind: 'failure' });
    await stub.report(node, 'model-b', { kind: 'neutral' });

    const forA = await stub.stats('model-a');
    expect(Object.keys(forA.models)).toEqual(['model-a']);
    expect(forA.models['model-a']).toMatchObject({ successes: 2, failures: 0, success_rate: 1, p50_ms: 4_000, p90_ms: 6_000 });
    expect((await stub.stats()).overall).toMatchObject({ successes: 2, failures: 1, neutral: 1, success_rate: 2 / 3 });

    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const snapshot = await env.KV.get<NodeSnapshot>(snapshotKey(node), 'json');
    expect(snapshot).toMatchObject({ v: 1, node, state: 'closed', retry_at: null });
    expect(snapshot!.models['model-b']).toMatchObject({ successes: 0, failures: 1, neutral: 1, success_rate: 0 });
    // Outcomes are still in the window: the snapshot is rewritten later, so they leave it when they age out.
    const next = await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm());
    expect(next).toBeGreaterThan(Date.now() + 30_000);
  });

  it('refuses a task while open, and says when a probe may go', async () => {
    const node = `node_test_${crypto.randomUUID()}`;
    const stub = nodeHealthStub(env, node);
    expect(await stub.admit(node, 'task_a')).toEqual({ verdict: 'go' });
    for (let i = 0; i < FAILURES_TO_OPEN; i++) await stub.report(node, 'model-a', { kind: 'failure' });
    const stats = await stub.stats();
    expect(stats).toMatchObject({ state: 'open', consecutive_failures: FAILURES_TO_OPEN });
    expect(await stub.admit(node, 'task_b')).toEqual({ verdict: 'refused', retry_at: stats.retry_at });
    expect(stats.retry_at!).toBeGreaterThan(Date.now());
    await runDurableObjectAlarm(stub);
    expect(await env.KV.get<NodeSnapshot>(snapshotKey(node), 'json')).toMatchObject({ state: 'open', retry_at: stats.retry_at });
  });
});
