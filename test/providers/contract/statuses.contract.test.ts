import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { ADAPTERS } from '../../../src/providers';
import type { ProviderAdapter, RequestContext } from '../../../src/providers/adapter';
import { bflAdapter } from '../../../src/providers/bfl.adapter';
import { httpFailure } from '../../../src/providers/exchange';
import { ideogramAdapter, ideogramAsyncAdapter } from '../../../src/providers/ideogram.adapter';
import { imagenAdapter } from '../../../src/providers/imagen.adapter';
import { OPENAI_OUT_OF_CREDIT_CODE, OPENAI_REFUSAL_CODES, openaiAdapter } from '../../../src/providers/openai.adapter';
import { recraftAdapter } from '../../../src/providers/recraft.adapter';
import type { Json } from '../../../src/providers/types';
import { wavespeedAdapter } from '../../../src/providers/wavespeed.adapter';
import { xaiAdapter } from '../../../src/providers/xai.adapter';
import { descriptionOf } from './descriptions';
import { resolveRef, type Schema } from './schema-check';

/**
 * Contract, statuses and fields, table-driven: every job status an adapter reads by name is one the
 * provider publishes, and every status it publishes is handled (pending keeps polling, final ends the
 * job, never as "unknown"); every field an adapter's answer schema reads is in the published answer
 * (or declared in `facts.unconfirmed` with its safe handling); every error code it tells apart is
 * one the provider uses, and every input-image code it lists is handled.
 */

/** Which endpoints of the description each adapter's submit and poll answers come from. */
const ANSWERS: [ProviderAdapter<never>, { submit: string[]; poll?: string }][] = [
  [bflAdapter, { submit: ['submit_flux_2_pro', 'submit_flux_2_flex'], poll: 'get_result' }],
  [wavespeedAdapter, { submit: ['submit'], poll: 'get_result' }],
  [xaiAdapter, { submit: ['generate'] }],
  [openaiAdapter, { submit: ['generations', 'edits_json'] }],
  [imagenAdapter, { submit: ['predict'] }],
  [ideogramAdapter, { submit: ['v3_generate', 'v4_generate'] }],
  [ideogramAsyncAdapter, { submit: ['v4_async_generate'], poll: 'get_generation' }],
  [recraftAdapter, { submit: ['generate'] }],
];

/** A poll answer in each async provider's published shape, ending in `status`. */
const POLL_ANSWERS: Record<string, (status: string) => unknown> = {
  bfl: (status) => ({ id: 'j', status, result: status === 'Ready' ? { sample: 'https://cdn.example/a.png' } : null }),
  wavespeed: (status) => ({ code: 200, message: 'success', data: { id: 'p', status, outputs: ['https://cdn.example/a.png'], has_nsfw_contents: [false], error: '' } }),
  ideogram: (status) => ({
    generation_id: 'g',
    status,
    created: '2026-11-26T00:00:00Z',
    data: [{ url: 'https://cdn.example/a.png', is_image_safe: true, prompt: 'p', resolution: '1024x1024', seed: 1 }],
  }),
};

/** The field paths a schema describes (`data`, `data[]`, `data[].url` …), through `$ref`, `oneOf`/`anyOf` and nullable types. */
function fieldPaths(schemaIn: Schema, root: Schema, prefix = ''): Set<string> {
  const schema = resolveRef(schemaIn, root);
  const paths = new Set<string>();
  for (const alternative of [...((schema.oneOf ?? []) as Schema[]), ...((schema.anyOf ?? []) as Schema[])]) {
    for (const path of fieldPaths(alternative, root, prefix)) paths.add(path);
  }
  const named = { ...((schema.properties ?? {}) as Record<string, Schema>) };
  for (const seen of Object.keys((schema['x-unlisted-but-seen'] ?? {}) as object)) named[seen] ??= {};
  for (const [name, property] of Object.entries(named)) {
    const path = prefix ? `${prefix}.${name}` : name;
    paths.add(path);
    for (const inner of fieldPaths(property, root, path)) paths.add(inner);
  }
  if (schema.items && typeof schema.items === 'object') {
    paths.add(`${prefix}[]`);
    for (const inner of fieldPaths(schema.items as Schema, root, `${prefix}[]`)) paths.add(inner);
  }
  return paths;
}

const answerSchema = (fixture: Schema, endpoint: string): Schema => {
  const spec = (fixture.endpoints as Record<string, { responses: Record<string, Schema> }>)[endpoint];
  if (!spec?.responses['200']) throw new Error(`no 200 answer for ${endpoint}`);
  return spec.responses['200'];
};

const CONTEXT: RequestContext = {
  base: new URL('https://provider.example'),
  inputImage: async () => 'not used',
  inline: (value) => ({ spooled: { file_id: value, width: 0, height: 0, content_type: 'image/png' } }),
};
const UNKNOWN = /unknown job status/;

describe.each(ANSWERS.map(([adapter, ends]) => [`${adapter.provider.id} (${adapter.mode})`, adapter, ends] as const))(
  'contract, statuses and fields of %s',
  (_name, adapter, ends) => {
    const fixture = descriptionOf(adapter.provider);
    const extras = new Set(adapter.provider.facts?.unconfirmed.flatMap((f) => f.fields ?? []));

    it.each([['submit', ends.submit] as const, ...(ends.poll ? [['poll', [ends.poll]] as const] : [])])(
      'reads only fields the description has in the %s answer',
      (kind, endpoints) => {
        const exchange = kind === 'poll' && adapter.mode === 'async' ? adapter.poll : adapter.submit;
        const ours = fieldPaths(z.toJSONSchema(exchange.answer, { io: 'output', unrepresentable: 'any' }) as Schema, {});
        for (const endpoint of endpoints) {
          const published = fieldPaths(answerSchema(fixture, endpoint), fixture);
          expect([...ours].filter((path) => !published.has(path) && !extras.has(path)), endpoint).toEqual([]);
        }
      },
    );

    if (adapter.mode !== 'async') return;
    const statuses = fixture.statuses as { values: Record<string, string>; in_progress: string[]; sdk_extra_terminal?: string[] };

    it('reads by name exactly the statuses the provider publishes (its SDK’s extra final ones included)', () => {
      const published = [...Object.keys(statuses.values), ...(statuses.sdk_extra_terminal ?? [])];
      expect([...adapter.statuses.pending, ...adapter.statuses.final].sort()).toEqual(published.sort());
      expect([...adapter.statuses.pending].sort()).toEqual([...statuses.in_progress].sort());
    });

    it('keeps polling each pending status, ends the job on each final one, and fails an unknown one at once', () => {
      const readWith = (status: string) => adapter.poll.read(adapter.poll.answer.parse(POLL_ANSWERS[adapter.provider.id]!(status)), {} as Json, CONTEXT);
      for (const status of adapter.statuses.pending) expect(readWith(status), status).toMatchObject({ state: 'pending' });
      for (const status of adapter.statuses.final) {
        const step = readWith(status);
        expect(step.state, status).not.toBe('pending');
        if (step.state === 'failed') expect(step.message, status).not.toMatch(UNKNOWN);
      }
      expect(readWith('Queued-by-a-new-release')).toMatchObject({ state: 'failed', code: 'provider_error', message: expect.stringMatching(UNKNOWN) });
    });
  },
);

describe('contract, OpenAI error codes', () => {
  const fixture = descriptionOf(openaiAdapter.provider);
  const errors = fixture.errors as { known_codes_not_in_openapi: Record<string, string>; image_input_codes_in_openapi: { values: string[] } };
  const published = new Set([...Object.keys(errors.known_codes_not_in_openapi), ...errors.image_input_codes_in_openapi.values]);
  const refusal = (code: string, status = 400) =>
    httpFailure('openai', openaiAdapter.errors, {
      status,
      body: openaiAdapter.errors.schema.parse({ error: { message: 'm', type: 'invalid_request_error', code } }),
      message: 'm',
      phase: 'submit',
    });

  it('tells apart only codes OpenAI uses', () => {
    expect([...Object.keys(OPENAI_REFUSAL_CODES), OPENAI_OUT_OF_CREDIT_CODE].filter((code) => !published.has(code))).toEqual([]);
  });

  it.each(errors.image_input_codes_in_openapi.values)('handles the input-image code %s as the table says', (code) => {
    expect(OPENAI_REFUSAL_CODES[code]).toBeDefined();
    expect(refusal(code)).toMatchObject({ state: 'failed', code: OPENAI_REFUSAL_CODES[code] });
  });

  it('reads moderation_blocked as content_moderated and a 429 insufficient_quota as out of credit', () => {
    expect(refusal('moderation_blocked')).toMatchObject({ state: 'failed', code: 'content_moderated' });
    expect(refusal(OPENAI_OUT_OF_CREDIT_CODE, 429)).toMatchObject({ state: 'failed', code: 'provider_unavailable' });
  });
});

it('covers every adapter in the status and field tables', () => {
  expect(ANSWERS.map(([adapter]) => adapter)).toEqual(expect.arrayContaining([...ADAPTERS]));
  expect(ANSWERS).toHaveLength(ADAPTERS.length);
});
