import { describe, expect, it } from 'vitest';
import { findModel, MODELS } from '../../../src/catalog';
import { modelRequest } from '../../../src/api/openai/model-request';
import { matchSize } from '../../../src/api/openai/size-match';
import { ApiError } from '../../../src/errors';

const model = (id: string) => findModel(id)!;
const mapped = (id: string, fields: { n?: number; size?: string; quality?: string }, own: Record<string, unknown> = {}) =>
  modelRequest(model(id), { prompt: 'A lighthouse at dawn', ...fields }, own);

function refusal(run: () => unknown): ApiError {
  try {
    run();
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('expected an ApiError');
}

describe("the catalog's output sizes", () => {
  it.each(MODELS.map((m) => [m.id, m] as const))('%s declares its sizes, each selected by values its schema accepts', (_, entry) => {
    expect(entry.output_sizes?.length).toBeGreaterThan(0);
    for (const size of entry.output_sizes ?? []) {
      const parsed = entry.schema.safeParse({ model: entry.id, prompt: 'A lighthouse at dawn', ...size.fields });
      expect([size.fields, parsed.success]).toEqual([size.fields, true]);
      expect(size.width % 16 === 0 || entry.id === 'hunyuan-image-3' || entry.id === 'recraft-v4' || entry.id === 'ideogram-v4').toBe(true);
    }
  });
});

describe("OpenAI's size onto a model's sizes", () => {
  const flux = model('flux-2').output_sizes!;

  it('takes the closest shape, then the closest area among sizes of that shape', () => {
    expect(matchSize(flux, 1536, 1024)).toMatchObject({ ok: true, size: { fields: { aspect_ratio: '3:2', resolution: '1K' } } });
    expect(matchSize(flux, 3136, 1344)).toMatchObject({ ok: true, size: { fields: { aspect_ratio: '21:9', resolution: '2K' } } });
    expect(matchSize(flux, 1792, 1024)).toMatchObject({ ok: true, size: { fields: { aspect_ratio: '16:9', resolution: '1K' } } });
    expect(matchSize(flux, 512, 512)).toMatchObject({ ok: true, size: { width: 1024, height: 1024 } });
  });

  it('refuses a shape more than 15% off any ratio, or more than twice as large or small per side', () => {
    expect(matchSize(flux, 3072, 1024)).toMatchObject({ ok: false });
    expect(matchSize(flux, 256, 256)).toMatchObject({ ok: false, nearest: { width: 1024, height: 1024 } });
    expect(matchSize(flux, 8192, 8192)).toMatchObject({ ok: false });
  });

  it.each([
    ['cogview-4', '1536x1024', { aspect_ratio: '4:3' }],
    ['imagen-4', '1024x1792', { aspect_ratio: '9:16', resolution: '1K' }],
    ['ideogram-v3', '1024x1024', { aspect_ratio: '1:1' }],
    ['recraft-v4', '1024x1536', { aspect_ratio: '2:3' }],
    ['hunyuan-image-3', '1280x720', { aspect_ratio: '16:9' }],
    ['gpt-image-1.5-official', '1536x1024', { size: '1536x1024' }],
    ['gpt-image-1.5-official', 'auto', { size: 'auto' }],
    ['grok-imagine', 'auto', { aspect_ratio: 'auto' }],
    ['flux-2', 'auto', { aspect_ratio: '1:1' }],
  ])('%s: size %s becomes %j', (id, size, fields) => {
    expect(mapped(id, { size })).toMatchObject(fields);
  });
});

describe("OpenAI's n and quality onto a model's fields", () => {
  it("puts n in the model's count field, and allows n = 1 everywhere", () => {
    expect(mapped('imagen-4', { n: 3 })).toMatchObject({ n: 3 });
    expect(mapped('flux-2', { n: 1 })).not.toHaveProperty('n');
    expect(refusal(() => mapped('flux-2', { n: 2 }))).toMatchObject({ param: 'n' });
    expect(refusal(() => mapped('imagen-4', { n: 5 }))).toMatchObject({ param: 'n', message: 'n: must be at most 4' });
  });

  it("puts quality in the model's quality field, takes auto as the model's default, refuses the rest", () => {
    expect(mapped('gpt-image-1.5-official', { quality: 'high' })).toMatchObject({ quality: 'high' });
    expect(mapped('cogview-4', { quality: 'auto' })).toMatchObject({ quality: 'hd' });
    expect(mapped('flux-2', { quality: 'auto' })).not.toHaveProperty('quality');
    expect(refusal(() => mapped('cogview-4', { quality: 'low' })).message).toBe('quality: cogview-4 takes one of hd, standard');
    expect(refusal(() => mapped('flux-2', { quality: 'hd' }))).toMatchObject({ param: 'quality' });
  });

  it("refuses a size that disagrees with the model's own field, and accepts one that agrees", () => {
    expect(mapped('flux-2', { size: '1376x768' }, { aspect_ratio: '16:9' })).toMatchObject({ aspect_ratio: '16:9' });
    expect(refusal(() => mapped('flux-2', { size: '1024x1024' }, { resolution: '2K' }))).toMatchObject({ param: 'size' });
  });
});
