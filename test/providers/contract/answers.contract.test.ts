import { z } from '@hono/zod-openapi';
import { env } from 'cloudflare:workers';
import { describe, expect, inject, it } from 'vitest';
import { MODELS } from '../../../src/catalog';
import type { BackendNode, ModelEntry } from '../../../src/catalog/types';
import type { Env } from '../../../src/env';
import { ADAPTERS, PROVIDERS } from '../../../src/providers';
import type { ProviderAdapter } from '../../../src/providers/adapter';
import { pollJob } from '../../../src/providers/exchange';
import { type ProviderCall, type ProviderInfo, ProviderRetryableError, type ProviderStep } from '../../../src/providers/types';
import { uniquePrompt } from '../../simulator-fixtures';
import { memorySpool } from '../adapter-harness';
import { checkAnswer, checkRequest } from './descriptions';


/** Every adapter, typed for the job-agnostic calls made here. */
const ALL_ADAPTERS: readonly ProviderAdapter<never>[] = ADAPTERS;
/**
 * Contract, answers: every answer the simulator gives an adapter (success, pending, each fault
 * switch of simulator/faults.ts, a refused key, a lost job) fits the provider's published
 * description of that endpoint and status, field by field. The simulator was written from the same
 * reading as the adapters, so this is what keeps a misreading from passing twice.
 *
 * `[sim:status=…]` answers are off the description on purpose (a status it does not list); for
 * them only the status itself may differ.
 */

interface Exchange {
  request: { url: string; method: string; headers: Headers; json?: unknown; form?: FormData };
  answer: { status: number; body: string; contentType: string };
}

/** A call through the simulator that records each exchange with the provider. */
function recordingSimulatorCall(overrides: Partial<Env> = {}): { call: ProviderCall; exchanges: Exchange[] } {
  const exchanges: Exchange[] = [];
  const callEnv = { ...env, ...overrides } as Env;
  const simulator = new URL(env.SIMULATOR_URL).origin;
  const fetchFn = async (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    const response = await fetch(input, init);
    const url = String(input);
    if (new URL(url).origin !== simulator || url.includes('/files/') || url.includes('/image.png')) return response;
    const body = init.body;
    exchanges.push({
      request: {
        url,
        method: init.method ?? 'GET',
        headers: new Headers(init.headers),
        json: typeof body === 'string' ? (JSON.parse(body) as unknown) : undefined,
        form: body instanceof FormData ? body : undefined,
      },
      answer: { status: response.status, body: await response.clone().text(), contentType: response.headers.get('content-type') ?? '' },
    });
    return response;
  };
  return { call: { env: callEnv, fetch: fetchFn as typeof fetch, spool: memorySpool }, exchanges };
}

/** Every switch that changes what a provider answers; `hang` only where the job is polled (a sync call would wait ten minutes). */
const SWITCHES = ['', '[sim:fail]', '[sim:moderate]', '[sim:moderate-output]', '[sim:nocredit]', '[sim:http=429]', '[sim:http=500]', '[sim:http=503]', '[sim:drop=1]', '[sim:gone]'];
const ASYNC_SWITCHES = ['[sim:hang]', '[sim:status=cancelled]', '[sim:status=timeout]', '[sim:status=Queued]'];

/** Submits and, for an async node, polls a few times (the simulator's jobs end at once unless they hang). */
async function run(node: BackendNode, input: unknown, call: ProviderCall): Promise<ProviderStep | 'retryable'> {
  try {
    let step = await node.submit(input, call);
    for (let i = 0; i < 5 && step.state === 'pending' && node.mode === 'async'; i++) step = await node.poll(step.handle, call);
    return step;
  } catch (err) {
    if (err instanceof ProviderRetryableError) return 'retryable';
    throw err;
  }
}

/** The model's enum fields and their values. */
function enumFields(model: ModelEntry): [string, string[]][] {
  const schema = z.toJSONSchema(model.schema, { io: 'input', unrepresentable: 'any' }) as { properties: Record<string, { enum?: string[] }> };
  return Object.entries(schema.properties).flatMap(([name, field]) => (field.enum ? [[name, field.enum] as [string, string[]]] : []));
}

/** Job handles that name no job, for the answer to a poll of a lost job. */
const LOST_JOBS: Record<string, (base: string) => Record<string, string>> = {
  bfl: (base) => ({ id: 'lost', polling_url: `${base}/v1/get_result?id=lost` }),
  wavespeed: () => ({ id: 'lost', model: 'z-ai/cogview-4' }),
  ideogram: () => ({ generation_id: 'lost' }),
};

describe.each(PROVIDERS.map((p) => [p.id, p] as const))('contract, simulator answers from %s', (_id, provider: ProviderInfo) => {
  const allowedExtras = provider.facts?.unconfirmed.flatMap((f) => f.fields ?? []) ?? [];

  it(`fit ${provider.facts?.description.fixture} for every switch, model and node`, async () => {
    const redirector = inject('redirectorUrl');
    const exchanges: { label: string; exchange: Exchange; offStatus?: string; keyless?: boolean }[] = [];
    const record = (label: string, recorded: Exchange[], offStatus?: string, keyless = false) => {
      if (recorded.length === 0) throw new Error(`${label}: no exchange with the simulator`);
      exchanges.push(...recorded.map((exchange) => ({ label, exchange, offStatus, keyless })));
    };

    for (const model of MODELS) {
      const fields = Object.keys(model.schema.shape);
      for (const node of model.nodes.filter((n) => n.provider === provider.id)) {
        const switches = node.mode === 'async' ? [...SWITCHES, ...ASYNC_SWITCHES] : SWITCHES;
        for (const directive of switches) {
          const body = { model: model.id, prompt: uniquePrompt(`contract ${directive}`) };
          const { call, exchanges: recorded } = recordingSimulatorCall();
          await run(node, model.schema.parse(body), call);
          record(`${model.id} ${node.id} ${directive || 'success'}`, recorded, /status=(\w+)/.exec(directive)?.[1]);
        }
        // Each option value once, so every endpoint an option leads to (FLUX.2 flex …) answers too.
        for (const [name, values] of enumFields(model)) {
          for (const value of values) {
            const body = { model: model.id, prompt: uniquePrompt(`contract ${name}=${value}`), [name]: value };
            const { call, exchanges: recorded } = recordingSimulatorCall();
            await run(node, model.schema.parse(body), call);
            record(`${model.id} ${node.id} ${name}=${value}`, recorded);
          }
        }
        if (fields.includes('input_urls')) {
          const body = { model: model.id, prompt: uniquePrompt('contract references'), input_urls: [`${redirector}/image.png?tag=contract`] };
          const { call, exchanges: recorded } = recordingSimulatorCall();
          await run(node, model.schema.parse(body), call);
          record(`${model.id} ${node.id} with a reference image`, recorded);
        }
        const refused = recordingSimulatorCall({ [provider.secret]: '' });
        await run(node, model.schema.parse({ model: model.id, prompt: uniquePrompt('contract no key') }), refused.call);
        record(`${model.id} ${node.id} without a key`, refused.exchanges, undefined, true);
      }
    }
    for (const adapter of ALL_ADAPTERS.filter((a) => a.provider.id === provider.id)) {
      if (adapter.mode !== 'async') continue;
      const { call, exchanges: recorded } = recordingSimulatorCall();
      await pollJob(adapter, LOST_JOBS[provider.id]!(env.SIMULATOR_URL), call);
      record(`${provider.id} poll of a lost job`, recorded);
    }

    const problems: string[] = [];
    const answered = new Map<string, Set<number>>();
    for (const { label, exchange, offStatus, keyless } of exchanges) {
      const { endpoint, problems: requestProblems } = checkRequest(provider, exchange.request, { keyless });
      answered.set(endpoint.call, (answered.get(endpoint.call) ?? new Set()).add(exchange.answer.status));
      const answerProblems = checkAnswer(provider, endpoint, exchange.answer, allowedExtras).filter(
        (p) => !(offStatus && p.includes(`.status: "${offStatus}" is not one of`)),
      );
      problems.push(...[...requestProblems, ...answerProblems].map((p) => `${label}: ${p}`));
    }
    expect(problems).toEqual([]);
    // Every endpoint the adapters call had its answers checked.
    expect([...answered.keys()].sort()).toEqual([...(provider.facts?.endpoints ?? [])].sort());
  });
});
