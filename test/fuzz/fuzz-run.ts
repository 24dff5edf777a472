import { ORIGIN } from '../helpers';
import { differences, snapshot, type Snapshot } from './account-state';
import { send } from './direct-fetch';
import { finalTask, type Setup } from './fixtures';
import { KNOWN_ISSUES } from './known-issues';
import { templatePattern, type Operation } from './openapi-doc';
import { Placeholders } from './request-parts';
import type { Plan } from './request-plan';
import { checkResponse, type Outcome, type Problem, type Rule } from './response-checks';

/**
 * Sends planned requests in batches, four at a time, checks every answer, and reads the watched
 * account before and after every batch. Collects what broke; the test file decides what fails.
 */

/** Requests between two snapshots of the watched account. */
const BATCH = 250;
const CONCURRENCY = 4;
const TERMINAL = new Set(['succeeded', 'failed', 'canceled']);

export interface Failure {
  index: number;
  plan: Plan;
  path: string;
  outcome: Outcome;
  problem: Problem;
}

export interface RunResult {
  sent: number;
  failures: Failure[];
  /** Problems matched by a known issue, by issue name. */
  known: Map<string, number>;
  /** What moved in the watched account, per batch. */
  stateMoves: string[];
  /** Tasks created by valid requests, and those not final 20 s after the run. */
  workerTasks: string[];
  unfinished: string[];
  /** Statuses per operation (and per off-document kind), and per defect kind. */
  perOperation: Map<string, { valid: number; invalid: number; statuses: Map<number, number> }>;
  perDefect: Map<string, Map<number, number>>;
  validRefused: number;
  /** Requests not sent because `Headers` refused their broken header. */
  unsendable: number;
}

async function inPool<T>(items: T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

const count = (map: Map<number, number>, status: number) => map.set(status, (map.get(status) ?? 0) + 1);

/** Runs the plans against the Worker; `setup` names the accounts, keys and tasks they use. */
export async function runPlans(ops: Operation[], setup: Setup, plans: Plan[]): Promise<RunResult> {
  const f = setup.fixtures;
  const spare = [...setup.spareKeyIds];
  const result: RunResult = {
    sent: 0,
    failures: [],
    known: new Map(),
    stateMoves: [],
    workerTasks: [],
    unfinished: [],
    perOperation: new Map(),
    perDefect: new Map(),
    validRefused: 0,
    unsendable: 0,
  };
  let pick = 0;
  const workerTask = () => result.workerTasks[pick++ % Math.max(1, result.workerTasks.length)] ?? 'task_0000000000000000000000';
  const resolve = (path: string) =>
    path.replace(Placeholders.spareKey, () => spare.pop() ?? 'key_0000000000000000').replace(Placeholders.workerTask, workerTask);

  let before: Snapshot = await snapshot(ops, f);
  for (let start = 0; start < plans.length; start += BATCH) {
    const batch = plans.slice(start, start + BATCH).map((plan, i) => ({ plan, index: start + i }));
    let keysAdded = 0;
    await inPool(batch, CONCURRENCY, async ({ plan, index }) => {
      const path = resolve(plan.path);
      const defect = plan.intent === 'invalid' ? plan.defect : null;
      const mustCarry = defect?.kind === 'auth' ? 'authorization' : defect?.kind === 'header' ? defect.field : undefined;
      const outcome = await send(plan.method, path + plan.query, plan.headers, plan.body, mustCarry);
      if (!outcome) {
        result.unsendable++;
        return;
      }
      result.sent++;
      // A path value such as `..` moves the request to another route (URL normalisation): then it is off the document.
      const onRoute = plan.op !== null && templatePattern(plan.op.template).test(new URL(`${ORIGIN}${path}`).pathname);
      for (const problem of checkResponse(plan, outcome, onRoute)) {
        const failure = { index, plan, path, outcome, problem };
        const issue = KNOWN_ISSUES.find((k) => k.matches(failure));
        if (issue) result.known.set(issue.name, (result.known.get(issue.name) ?? 0) + 1);
        else result.failures.push(failure);
      }

      const accepted = outcome.status < 300;
      // The contract's two key routes: minting adds an API key to KV, revoking removes one.
      if (accepted && plan.op?.auth === 'internal' && plan.op.template.includes('/keys')) {
        keysAdded += plan.method === 'POST' ? 1 : plan.method === 'DELETE' ? -1 : 0;
      }
      if (accepted && plan.createsWork) {
        const id = (JSON.parse(outcome.text) as { task_id?: string }).task_id;
        if (id) result.workerTasks.push(id);
      }
      if (plan.intent === 'valid' && outcome.status >= 400) result.validRefused++;

      const label = plan.op && plan.kind === 'operation' ? plan.op.label : `(${plan.kind})`;
      const stats = result.perOperation.get(label) ?? { valid: 0, invalid: 0, statuses: new Map<number, number>() };
      if (plan.intent === 'invalid') stats.invalid++;
      else stats.valid++;
      count(stats.statuses, outcome.status);
      result.perOperation.set(label, stats);
      const valid = plan.createsWork ? 'valid, creates work' : 'valid';
      const kind = plan.intent === 'invalid' ? `${plan.defect?.kind} defect` : plan.intent === 'valid' ? valid : 'off the document';
      const byStatus = result.perDefect.get(kind) ?? new Map<number, number>();
      count(byStatus, outcome.status);
      result.perDefect.set(kind, byStatus);
    });

    const after = await snapshot(ops, f);
    const moved = differences(before, after, keysAdded);
    if (moved.length > 0) {
      const suspects = batch
        .filter(({ plan }) => plan.touchesWatched)
        .slice(0, 5)
        .map(({ plan, index }) => `#${index} ${plan.method} ${plan.path}`);
      result.stateMoves.push(
        `requests #${start}–#${start + batch.length - 1} moved the watched account:\n      ${moved.join('\n      ')}\n` +
          `    requests naming it in that batch (first 5): ${suspects.join('; ')}`,
      );
    }
    before = after;
  }

  const workerAuth = { authorization: `Bearer ${f.worker.apiKey}` };
  for (const id of new Set(result.workerTasks)) {
    const task = await finalTask(id, workerAuth, 20_000);
    if (!task || !TERMINAL.has(String(task.status))) result.unfinished.push(id);
  }
  return result;
}

function describeRequest(plan: Plan, path: string): string {
  const headers = Object.fromEntries(plan.headers.map(([k, v]) => [k, v.length > 80 ? `${v.slice(0, 60)}… (${v.length} chars)` : v]));
  const bytes = plan.body?.bytes;
  const text = plan.body?.text ?? (bytes ? `<${bytes.length} bytes: ${[...bytes.slice(0, 8)].join(' ')} …>` : null);
  const shown = (t: string) => (t.length > 200 ? `${JSON.stringify(t.slice(0, 160))}… (${t.length} chars)` : JSON.stringify(t));
  const body = text === null ? 'no body' : `body ${shown(text)}${plan.body?.chunked ? ' (chunked)' : ''}`;
  const query = plan.query.length > 300 ? `${plan.query.slice(0, 200)}…` : plan.query;
  return `${plan.method} ${path}${query} ${JSON.stringify(headers)} ${body}`;
}

/** The failures of one rule, one entry per distinct problem: where, what, how often, and the first request that showed it. */
export function report(failures: Failure[], rule: Rule): string {
  const groups = new Map<string, Failure[]>();
  for (const f of failures.filter((x) => x.problem.rule === rule)) {
    const where = f.plan.op && f.plan.kind === 'operation' ? f.plan.op.label : `${f.plan.kind} ${f.plan.method}`;
    const key = `${where}: ${f.problem.text.replace(/"[^"]*"/g, '"…"').replace(/\d+/g, 'N')}`;
    groups.set(key, [...(groups.get(key) ?? []), f]);
  }
  return [...groups.entries()]
    .map(([key, list]) => {
      const first = list[0]!;
      return [
        `- ${key} (×${list.length})`,
        `    #${first.index}: ${describeRequest(first.plan, first.path)}`,
        `    → ${first.outcome.status} ${first.outcome.text.slice(0, 300)}`,
        `    ${first.problem.text}`,
      ].join('\n');
    })
    .join('\n');
}

/** What the run did, for the log: per operation and per defect kind, the statuses it got. */
export function summary(result: RunResult): string[] {
  const histogram = (statuses: Map<number, number>) =>
    [...statuses.entries()].sort(([a], [b]) => a - b).map(([status, n]) => `${status}×${n}`).join(' ');
  return [
    ...[...result.perOperation.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([label, s]) => `  ${label}: ${s.valid} valid, ${s.invalid} invalid → ${histogram(s.statuses)}`),
    ...[...result.perDefect.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([kind, statuses]) => `  ${kind}: ${histogram(statuses)}`),
    ...[...result.known.entries()].map(([name, n]) => `  known issue, left out of the checks (×${n}): ${name}`),
  ];
}
