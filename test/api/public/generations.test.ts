import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { FLUX_2_SIZES } from '../../../src/catalog/flux-2';
import { api, balance, createTask, customer, waitForTask } from '../../helpers';
import { pngSize } from '../../png';

const valid = { model: 'flux-2', prompt: 'A serene Japanese garden with cherry blossoms' };

describe('POST /api/v1/images/generations (flux-2)', () => {
  it('accepts a task, runs it on the provider and serves a PNG of the documented size', async () => {
    const { auth } = await customer(undefined, 100);
    const res = await createTask(auth, { ...valid, aspect_ratio: '16:9', type: 'pro', resolution: '1K' });
    expect(res.status).toBe(202);
    expect(res.headers.get('x-request-id')).toMatch(/\S+/);
    const created = await res.json<Record<string, unknown>>();
    expect(created).toMatchObject({ status: 'pending', model: 'flux-2', credits: 5 });
    expect(created.task_id).toMatch(/^task_[0-9A-Za-z]{22}$/);

    const task = await waitForTask(auth, String(created.task_id));
    expect(task).toMatchObject({
      status: 'succeeded',
      input: { prompt: valid.prompt, aspect_ratio: '16:9', type: 'pro', resolution: '1K' },
      credits: 5,
      error: null,
      callback_url: null,
      provider: 'bfl',
      node: 'node41',
    });
    expect(task.completed_at).not.toBeNull();
    const [image] = task.output!.images;
    expect(image).toMatchObject({ width: 1376, height: 768, content_type: 'image/png' });

    // The URL needs no Authorization header.
    const file = await api(new URL(image!.url).pathname);
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toBe('image/png');
    expect(file.headers.get('x-request-id')).toMatch(/^req_/);
    expect(pngSize(new Uint8Array(await file.arrayBuffer()))).toEqual({ width: 1376, height: 768 });
    expect(await balance(auth)).toMatchObject({ balance: 95, reserved: 0 });
  });

  it('applies the documented defaults: 1:1, pro, 1K', async () => {
    const { auth } = await customer(undefined, 100);
    const created = await (await createTask(auth, valid)).json<{ task_id: string; credits: number }>();
    expect(created.credits).toBe(5);
    const task = await waitForTask(auth, created.task_id);
    expect(task.input).toEqual({ prompt: valid.prompt, aspect_ratio: '1:1', type: 'pro', resolution: '1K' });
    expect(task.output!.images[0]).toMatchObject({ width: 1024, height: 1024 });
  });

  it('sends 2K flex to FLUX.2 [flex] at the 2K size of the table and charges 24', async () => {
    const { auth } = await customer(undefined, 100);
    const res = await createTask(auth, { ...valid, type: 'flex', resolution: '2K', aspect_ratio: '3:2' });
    const created = await res.json<{ task_id: string; credits: number }>();
    expect(created.credits).toBe(24);
    const task = await waitForTask(auth, created.task_id);
    const [width, height] = FLUX_2_SIZES['2K']['3:2'];
    expect(task.output!.images[0]).toMatchObject({ width, height });
    expect(width * height).toBeLessThanOrEqual(4 * 1024 * 1024);
    const sent = await fetch(`${env.SIMULATOR_URL}/__sim/requests?path=/v1/flux-2-flex`);
    const bodies = (await sent.json<{ body: string }[]>()).map((r) => JSON.parse(r.body) as Record<string, unknown>);
    expect(bodies.some((b) => b.prompt === valid.prompt && b.width === width && b.height === height)).toBe(true);
  });

  it.each([
    [{ type: 'pro', resolution: '1K' }, 5],
    [{ type: 'pro', resolution: '2K' }, 7],
    [{ type: 'flex', resolution: '1K' }, 14],
    [{ type: 'flex', resolution: '2K' }, 24],
  ])('prices %o at %i credits, as the product page does', async (fields, credits) => {
    const { auth } = await customer(undefined, 100);
    const res = await createTask(auth, { ...valid, ...fields });
    expect((await res.json<{ credits: number }>()).credits).toBe(credits);
    expect(await balance(auth)).toMatchObject({ balance: 100 - credits, reserved: credits });
  });

  it('passes input_urls to the provider as input_image, input_image_2 …', async () => {
    const { auth } = await customer(undefined, 100);
    const urls = ['https://images.example.com/a.png', 'https://images.example.com/b.png', 'https://images.example.com/c.png'];
    const prompt = `Blend these references ${crypto.randomUUID()}`;
    const created = await (await createTask(auth, { ...valid, prompt, input_urls: urls })).json<{ task_id: string }>();
    await waitForTask(auth, created.task_id);
    const sent = await (await fetch(`${env.SIMULATOR_URL}/__sim/requests?path=/v1/flux-2-pro`)).json<{ body: string; headers: Record<string, string> }[]>();
    const request = sent.find((r) => r.body.includes(prompt))!;
    expect(request.headers['x-key']).toBe(env.BFL_API_KEY);
    expect(JSON.parse(request.body)).toMatchObject({ input_image: urls[0], input_image_2: urls[1], input_image_3: urls[2] });
  });
});

describe('validation: every rule answers 400 naming the field and changes nothing', () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ['missing model', { prompt: 'a prompt' }, 'model'],
    ['unknown model', { ...valid, model: 'dall-e-9' }, 'model'],
    ['missing prompt', { model: 'flux-2' }, 'prompt'],
    ['prompt not a string', { ...valid, prompt: 42 }, 'prompt'],
    ['prompt under 3 characters', { ...valid, prompt: 'ab' }, 'prompt'],
    ['prompt over 5000 characters', { ...valid, prompt: 'x'.repeat(5001) }, 'prompt'],
    ['unsupported aspect_ratio', { ...valid, aspect_ratio: '7:5' }, 'aspect_ratio'],
    ['unknown type', { ...valid, type: 'max' }, 'type'],
    ['unknown resolution', { ...valid, resolution: '4K' }, 'resolution'],
    ['input_urls not an array', { ...valid, input_urls: 'https://a.example/x.png' }, 'input_urls'],
    ['input_urls empty', { ...valid, input_urls: [] }, 'input_urls'],
    ['more than 8 input_urls', { ...valid, input_urls: Array.from({ length: 9 }, (_, i) => `https://a.example/${i}.png`) }, 'input_urls'],
    ['input_urls entry not a URL', { ...valid, input_urls: ['not a url'] }, 'input_urls.0'],
    ['input_urls entry not http(s)', { ...valid, input_urls: ['https://a.example/1.png', 'ftp://a.example/2.png'] }, 'input_urls.1'],
    ['callback_url not a URL', { ...valid, callback_url: 'nope' }, 'callback_url'],
    ['callback_url plain http to a public host', { ...valid, callback_url: 'http://example.com/hook' }, 'callback_url'],
    ['unknown field', { ...valid, seed: 7 }, 'seed'],
  ];

  it.each(cases)('%s', async (_name, body, field) => {
    const { auth } = await customer(undefined, 100);
    const res = await createTask(auth, body);
    expect(res.status).toBe(400);
    const { error } = await res.json<{ error: { code: string; param: string; details: { path: string }[]; message: string } }>();
    expect(error.code).toBe('invalid_request');
    expect(error.param).toBe(field);
    expect(error.details.map((d) => d.path)).toContain(field);
    expect(error.message).toContain(field);
    const credits = await (await api('/api/v1/billing/credits', { headers: auth })).json<{ balance: number; reserved: number; ledger: unknown[] }>();
    expect(credits).toMatchObject({ balance: 100, reserved: 0 });
    expect(credits.ledger).toHaveLength(1);
  });

  it('rejects malformed JSON with invalid_json', async () => {
    const { auth } = await customer(undefined, 100);
    const res = await api('/api/v1/images/generations', {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: '{"model": "flux-2",',
    });
    expect(res.status).toBe(400);
    expect((await res.json<{ error: { code: string } }>()).error.code).toBe('invalid_json');
  });

  it('rejects a body that is not JSON with 415', async () => {
    const { auth } = await customer(undefined, 100);
    const res = await api('/api/v1/images/generations', {
      method: 'POST',
      headers: { ...auth, 'content-type': 'text/plain' },
      body: 'model=flux-2',
    });
    expect(res.status).toBe(415);
    expect((await res.json<{ error: { code: string } }>()).error.code).toBe('unsupported_media_type');
  });

  it('rejects a body over 64 KiB with 413', async () => {
    const { auth } = await customer(undefined, 100);
    const res = await createTask(auth, { ...valid, prompt: 'x'.repeat(70 * 1024) });
    expect(res.status).toBe(413);
    expect((await res.json<{ error: { code: string } }>()).error.code).toBe('payload_too_large');
    expect(await balance(auth)).toMatchObject({ balance: 100, reserved: 0 });
  });

  it.each(['[]', 'null', '"a string"', '42'])('rejects the JSON body %s: it must be an object', async (body) => {
    const { auth } = await customer(undefined, 100);
    const res = await api('/api/v1/images/generations', {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body,
    });
    expect(res.status).toBe(400);
    const { error } = await res.json<{ error: { code: string; message: string } }>();
    expect(error).toMatchObject({ code: 'invalid_request', message: 'the request body must be a JSON object' });
  });

  it('rejects a missing body naming model', async () => {
    const { auth } = await customer(undefined, 100);
    const res = await api('/api/v1/images/generations', { method: 'POST', headers: auth });
    expect(res.status).toBe(400);
    expect((await res.json<{ error: { param: string } }>()).error.param).toBe('model');
  });
});

describe('payment', () => {
  it('refuses a task the balance cannot cover with 402, naming price and balance, and creates nothing', async () => {
    const { auth } = await customer(undefined, 6);
    const res = await createTask(auth, { ...valid, resolution: '2K' });
    expect(res.status).toBe(402);
    const { error } = await res.json<{ error: { code: string; message: string } }>();
    expect(error.code).toBe('insufficient_credits');
    expect(error.message).toContain('7');
    expect(error.message).toContain('6');
    const credits = await (await api('/api/v1/billing/credits', { headers: auth })).json<{ balance: number; ledger: { kind: string }[] }>();
    expect(credits.balance).toBe(6);
    expect(credits.ledger.map((e) => e.kind)).toEqual(['topup']);
  });
});
