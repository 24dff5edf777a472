import { CHAOS_MODELS } from './models';
import { chance, int, pick, type Random, seededRandom, weighted } from './random';

/** What a run is asked to do; every field has an environment variable (see settings.ts). */
export interface ChaosSettings {
  tasks: number;
  seed: number;
  restarts: number;
  accounts: number;
  /** Tasks are started over this many seconds (their start times are part of the plan). */
  spreadSeconds: number;
  /** Requests the client has in flight at most. */
  concurrency: number;
  /** The Worker's TASK_DEADLINE_SECONDS. */
  deadlineSeconds: number;
  /** How late past its deadline a task may still become final (the runtime was down meanwhile). */
  graceSeconds: number;
  /** The Worker's WEBHOOK_RETRY_SCHEDULE. */
  webhookSchedule: number[];
  pollInitialMs: number;
  pollMaxMs: number;
  /** The whole run is stopped (and fails) after this long. */
  watchdogSeconds: number;
}

/**
 * Webhook receivers: `healthy` answers 204 at once, `slow` after a delay (well inside the Worker's
 * 10 s), `flaky` answers 500 to its first attempts then 204 (fewer than the schedule allows), `dead-*`
 * never accepts (500 for ever, 410 Gone, or nothing listening). Only the first three count as healthy.
 */
export type ReceiverKind = 'healthy' | 'slow' | 'flaky' | 'dead-500' | 'dead-410' | 'dead-unreachable';
export const HEALTHY_RECEIVERS: readonly ReceiverKind[] = ['healthy', 'slow', 'flaky'];

export interface PlannedWebhook {
  kind: ReceiverKind;
  /** `slow`: ms before answering; `flaky`: attempts answered 500 first. */
  param: number;
}

export interface PlannedKey {
  key: string;
  /** Identical requests sent at once with this key (1: just one). */
  concurrent: number;
  /** After the answer, the same key and body once more: it must replay the same task. */
  replay: boolean;
  /** After the answer, the same key with another body: it must be refused (422). */
  reuseWithOtherBody: boolean;
}

export interface PlannedTask {
  index: number;
  /** In the prompt, so the simulator's records of submits can be told apart per task. */
  marker: string;
  account: number;
  model: string;
  /** The request body without `callback_url` (the receivers' address is known only at run time). */
  body: Record<string, unknown>;
  fault: string;
  webhook: PlannedWebhook | null;
  startAtMs: number;
  idempotency: PlannedKey | null;
  /** `Prefer: wait=N`, or null. */
  waitS: number | null;
  /** Cancel this long after the task was accepted, or null. */
  cancelAfterMs: number | null;
  /** Created through the OpenAI-compatible route (`POST /v1/images/generations`), which waits for the task. */
  viaOpenAI: boolean;
}

/** A SIGKILL of the Worker's runtime `atMs` into the run; it is started again after `downMs`. */
export interface PlannedKill {
  atMs: number;
  downMs: number;
}

/** A top-up by the BFF during the run, sent `repeats` times with the same reference (it must count once). */
export interface PlannedTopUp {
  account: number;
  atMs: number;
  amount: number;
  reference: string;
  repeats: number;
}

export interface Plan {
  runId: string;
  /** Credits each account starts with (index = account). */
  startingCredits: number[];
  tasks: PlannedTask[];
  kills: PlannedKill[];
  topUps: PlannedTopUp[];
  /** The reference image's path on the receivers' server. */
  inputPath: string;
}

/** Faults every provider has (see simulator/faults.ts), with weights; the clean case dominates. */
const COMMON_FAULTS: ReadonlyArray<readonly [string, (random: Random) => string, number]> = [
  ['none', () => '', 40],
  ['slow', (r) => `[sim:slow=${pick(r, [500, 1500, 4000])}]`, 9],
  ['5xx then ok', (r) => `[sim:http=503x${pick(r, [1, 2])}]`, 7],
  ['429 then ok', (r) => `[sim:http=429x${pick(r, [1, 2, 3])}]`, 6],
  ['5xx for ever', () => '[sim:http=500]', 2],
  ['429 for ever', () => '[sim:http=429]', 2],
  ['provider error', () => '[sim:fail]', 5],
  ['moderated prompt', () => '[sim:moderate]', 4],
  ['moderated output', () => '[sim:moderate-output]', 2],
  ['hang (deadline)', () => '[sim:hang]', 3],
  ['malformed answer once', () => '[sim:garble=1]', 2],
  ['malformed answers', () => '[sim:garble]', 1],
  ['provider out of credit', () => '[sim:nocredit]', 1],
  // Providers with callbacks (BFL, WaveSpeed) are asked for one; without it the Worker must still poll.
  ['provider callback dropped', () => '[sim:callback=drop]', 4],
  ['provider callback late', () => '[sim:callback-delay=1500]', 2],
];

const SUBJECTS = ['a lighthouse on a cliff at dusk', 'a red kite over green hills', 'a bowl of ramen, studio light', 'a fox in fresh snow'];

/**
 * The whole run, decided up front from the seed: every request, fault, receiver, cancel, retry and
 * kill time. Only the runtime's own timing (which request a kill cuts, how long a step takes) is not.
 */
export function makePlan(settings: ChaosSettings): Plan {
  const random = seededRandom(settings.seed);
  const runId = `cx${settings.seed.toString(36)}`;
  const spreadMs = settings.spreadSeconds * 1000;

  // The last account is kept short of credits, so some creations are refused (402) and a top-up lands mid-run.
  const tight = settings.accounts - 1;
  const startingCredits = Array.from({ length: settings.accounts }, (_, i) => (i === tight && settings.accounts > 1 ? 60 : 1_000_000));

  const tasks: PlannedTask[] = [];
  for (let index = 0; index < settings.tasks; index++) {
    const model = CHAOS_MODELS[index % CHAOS_MODELS.length]!;
    const marker = `${runId}_${index}`;
    const faults = [...COMMON_FAULTS.map(([label, make, w]) => [[label, make] as const, w] as const)];
    for (const [label, directive, w] of model.extraFaults) faults.push([[label, () => directive], w] as const);
    const [fault, makeDirective] = weighted(random, faults);
    let fields = model.fields(random, '');
    // A filtered image needs more than one to leave some behind.
    if (fault === 'one image filtered out') fields = { ...fields, n: int(random, 2, 3) };
    const directive = makeDirective(random);
    const body = { model: model.id, prompt: `${pick(random, SUBJECTS)} (${marker}) ${directive}`.trim(), ...fields };

    const viaOpenAI = chance(random, 0.06);
    const webhook: PlannedWebhook | null = !viaOpenAI && chance(random, 0.6)
      ? (() => {
          const kind = weighted<ReceiverKind>(random, [
            ['healthy', 45],
            ['slow', 15],
            ['flaky', 20],
            ['dead-500', 8],
            ['dead-410', 4],
            ['dead-unreachable', 8],
          ]);
          const param = kind === 'slow' ? int(random, 300, 2500) : kind === 'flaky' ? int(random, 1, Math.min(3, settings.webhookSchedule.length)) : 0;
          return { kind, param };
        })()
      : null;

    const keyed = !viaOpenAI && chance(random, 0.35);
    const idempotency: PlannedKey | null = keyed
      ? {
          key: `${marker}-key`,
          concurrent: chance(random, 0.2) ? int(random, 2, 3) : 1,
          replay: chance(random, 0.25),
          reuseWithOtherBody: chance(random, 0.1),
        }
      : null;
    // A task refused with 429 for ever waits in `pending`: the case a cancel is for.
    const cancelP = fault === '429 for ever' ? 0.6 : 0.1;
    tasks.push({
      index,
      marker,
      account: int(random, 0, settings.accounts - 1),
      model: model.id,
      body,
      fault,
      webhook,
      startAtMs: Math.round(random() * spreadMs),
      idempotency,
      waitS: !viaOpenAI && chance(random, 0.15) ? int(random, 1, 15) : null,
      cancelAfterMs: chance(random, cancelP) ? int(random, 0, 3000) : null,
      viaOpenAI,
    });
  }
  tasks.sort((a, b) => a.startAtMs - b.startAtMs || a.index - b.index);

  // Kills fall inside the busy part of the run, apart from each other.
  const kills: PlannedKill[] = [];
  for (let i = 0; i < settings.restarts; i++) {
    const slot = spreadMs / settings.restarts;
    kills.push({ atMs: Math.round(slot * i + slot * (0.25 + random() * 0.6)), downMs: int(random, 300, 3000) });
  }

  const topUps: PlannedTopUp[] =
    settings.accounts > 1
      ? [{ account: tight, atMs: Math.round(spreadMs * (0.3 + random() * 0.4)), amount: 300, reference: `${runId}-topup-1`, repeats: 3 }]
      : [];

  return { runId, startingCredits, tasks, kills, topUps, inputPath: `/input/${runId}.png` };
}
