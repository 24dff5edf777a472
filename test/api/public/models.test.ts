import { describe, expect, it } from 'vitest';
import { MODELS } from '../../../src/catalog';
import { ModelStatusSchema } from '../../../src/health/model-status';
import { api } from '../../helpers';

describe('GET /api/v1/models', () => {
  it("carries each model's live status; with no recent task, operational and no figures", async () => {
    const res = await api('/api/v1/models');
    expect(res.status).toBe(200);
    const { data } = await res.json<{ data: { id: string; status: unknown }[] }>();
    expect(data.map((m) => m.id).sort()).toEqual(MODELS.map((m) => m.id).sort());
    for (const model of data) {
      expect(ModelStatusSchema.parse(model.status)).toEqual({ state: 'operational', success_rate: null, p50_seconds: null, window_seconds: 900 });
    }
  });

  it('carries the same status on one model, and answers 404 for an unknown one', async () => {
    const res = await api('/api/v1/models/flux-2');
    expect(res.status).toBe(200);
    expect((await res.json<{ status: unknown }>()).status).toEqual({ state: 'operational', success_rate: null, p50_seconds: null, window_seconds: 900 });
    expect((await api('/api/v1/models/flux-3')).status).toBe(404);
  });

  it('documents the status in /openapi.json, from the same schema', async () => {
    const doc = await (await api('/openapi.json')).json<{ components: { schemas: Record<string, { properties?: Record<string, unknown>; required?: string[] }> } }>();
    const { Model, ModelStatus } = doc.components.schemas;
    expect(Model!.properties!.status).toEqual({ $ref: '#/components/schemas/ModelStatus' });
    expect(Model!.required).toContain('status');
    expect(ModelStatus!.properties!.state).toMatchObject({ type: 'string', enum: ['operational', 'degraded', 'down'] });
    expect(ModelStatus!.required).toEqual(['state', 'success_rate', 'p50_seconds', 'window_seconds']);
  });
});
