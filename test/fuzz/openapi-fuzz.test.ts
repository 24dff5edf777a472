import { env } from 'cloudflare:workers';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { api, INTERNAL } from '../helpers';
import { missingParts } from './account-state';
import { call } from './direct-fetch';
import { setUp, type Setup } from './fixtures';
import { report, runPlans, summary, type RunResult } from './fuzz-run';
import { merged, operations, type OpenApiDoc, type Operation } from './openapi-doc';
import { defectKinds, operationRequests, operationWeight, undocumentedMethods, unknownPaths, type Plan } from './request-plan';
import type { Rule } from './response-checks';

/**
 * Issue 14, item 2: requests generated from the Worker's own documents, `/openapi.json` and the internal
 * routes' `/internal/openapi.json` (read at test time, so
 * routes are covered as they land), valid and broken in exactly one place, over every operation,
 * parameter and declared header, plus Authorization, Content-Type, Idempotency-Key, Prefer and
 * x-request-id everywhere. One run of 5,000 requests (in beforeAll); each test below is one rule of
 * ../shared/API-CONTRACT.md checked on all of its answers.
 *
 * Reproduce: `VITE_FUZZ_SEED=<seed> npx vitest run test/fuzz` (every failure names the seed;
 * `VITE_FUZZ_SEED=random` draws one); `VITE_FUZZ_RUNS=<n>` sets the number of requests. Only `VITE_`
 * variables reach `import.meta.env` inside workerd (Vite's env prefix), and workerd has no `process.env`.
 */

const vars = (import.meta as ImportMeta & { env?: Record<string, string | undefined> }).env ?? {};
const SEED = vars.VITE_FUZZ_SEED === 'random' ? Math.floor(Math.random() * 2 ** 31) : Number(vars.VITE_FUZZ_SEED ?? 20_261_126);
const RUNS = Number(vars.VITE_FUZZ_RUNS ?? 5_000);
const RERUN = `fuzz seed ${SEED}, ${RUNS} requests (rerun: VITE_FUZZ_SEED=${SEED} VITE_FUZZ_RUNS=${RUNS} npx vitest run test/fuzz)`;

let ops: Operation[];
let setup: Setup;
let run: RunResult;

beforeAll(async () => {
  const started = Date.now();
  const documents = [await api('/openapi.json'), await api('/internal/openapi.json', { headers: INTERNAL })];
  const doc = merged(...(await Promise.all(documents.map((res) => res.json<OpenApiDoc>()))));
  ops = operations(doc);
  setup = await setUp(ops, `${SEED}`, env.INTERNAL_API_TOKEN);
  const f = setup.fixtures;
  const offDocument: fc.WeightedArbitrary<Plan>[] = [{ weight: 3, arbitrary: unknownPaths(ops, f) }];
  const methods = undocumentedMethods(ops, f);
  if (methods) offDocument.push({ weight: 4, arbitrary: methods });
  const documented = fc.oneof(...ops.map((op) => ({ weight: operationWeight(op), arbitrary: operationRequests(op, f) })));
  const plans = fc.sample(fc.oneof({ weight: 93, arbitrary: documented }, ...offDocument), { seed: SEED, numRuns: RUNS });
  const generated = Date.now();
  run = await runPlans(ops, setup, plans);
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const missing = missingParts(ops).map((m) => `the state check goes without ${m}: not in the document yet`);
  console.log(
    [
      `${RERUN}: ${run.sent} sent over ${ops.length} operations in ${seconds(Date.now() - started)} ` +
        `(generating ${seconds(generated - started)}); ${run.workerTasks.length} tasks created; ` +
        `${run.validRefused} valid requests refused with a documented 4xx; ${run.unsendable} not sent (a broken header Headers refused)`,
      ...summary(run),
      ...[...setup.notes, ...missing].map((n) => `  note: ${n}`),
    ].join('\n'),
  );
}, 240_000);

function expectNone(rule: Rule): void {
  const found = report(run.failures, rule);
  if (found) throw new Error(`${RERUN}\n${found}`);
}

describe('requests generated from /openapi.json and /internal/openapi.json', () => {
  it('answer no request with a 5xx, but a documented 503 provider_unavailable', () => expectNone('no-5xx'));

  it('answer every status >= 400 in the error envelope, with a code of the contract that goes with the status', () =>
    expectNone('envelope'));

  it('name the offending field (param or details) in every validation 400', () => expectNone('names-field'));

  it('carry an x-request-id on every answer, the caller’s own when it is well-formed', () => expectNone('request-id'));

  it('get only statuses (and success media types) that their operation documents', () => expectNone('documented'));

  it('are refused when the document refuses them, with the status their defect calls for', () => expectNone('refusal'));

  it('change nothing when refused: balance, reserved, ledger, tasks, webhook secret, API keys', () => {
    if (run.stateMoves.length > 0) throw new Error(`${RERUN}\n${run.stateMoves.join('\n')}`);
  });

  it('create tasks that all end, on books that balance', async () => {
    expect(run.unfinished, `${RERUN}: tasks not final 20 s after the run`).toEqual([]);
    if (!ops.some((op) => op.template === '/internal/v1/accounts/{account_id}/reconciliation')) return;
    const f = setup.fixtures;
    for (const id of [f.watched.accountId, f.worker.accountId]) {
      const books = await call('GET', `/internal/v1/accounts/${id}/reconciliation`, { authorization: `Bearer ${f.internalToken}` });
      expect([id, books.status, (books.body as { consistent?: boolean }).consistent], JSON.stringify(books.body)).toEqual([id, 200, true]);
    }
  });

  it('cover every operation of the document, valid and broken in every way it can be', () => {
    expect(run.sent).toBeGreaterThanOrEqual(Math.min(RUNS, 5_000) * 0.99);
    for (const op of ops) {
      const stats = run.perOperation.get(op.label);
      expect([op.label, (stats?.valid ?? 0) > 0]).toEqual([op.label, true]);
      if (defectKinds(op).length > 0 && RUNS >= 1_000) expect([op.label, (stats?.invalid ?? 0) > 0]).toEqual([op.label, true]);
    }
  });
});
