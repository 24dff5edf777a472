/**
 * Duplicate provider submits: a task whose provider accepted a job (or may have: the call never got
 * its answer) and then got the same task submitted again, which the provider does and bills twice.
 * Each duplicate is given the cause that made the Worker submit again, from the simulator's record
 * of the calls and the times the runtime was killed; one no cause explains is a defect.
 */

/** A submit as the simulator recorded it (times in epoch ms). */
export interface SubmitSeen {
  at: number;
  /** Null: never answered (a hanging provider). */
  answered_at: number | null;
  status: number | null;
  /** The caller had hung up when the answer was ready. */
  caller_gone: boolean | null;
  /** The 2xx answer was cut short (`[sim:garble]`): the Worker could not read it. */
  garbled: boolean;
}

/** When the runtime was killed and when it answered again. */
export interface Outage {
  killed_at: number;
  back_at: number;
}

export const DUPLICATE_CAUSES = {
  malformed: 'the earlier answer was malformed (the provider did the work; nothing says so to the Worker)',
  hung: 'the earlier call never got an answer (the provider hung; the Worker gave up on it)',
  killedInFlight: 'the runtime was killed while the earlier call was out',
  timedOut: 'the earlier call timed out before the provider answered',
  killedBeforeSave: 'the runtime was killed after the earlier answer arrived, before it was saved',
  storeFailed: 'the results of the earlier answer could not be stored, and the Worker asked the provider again',
  unexplained: 'unexplained',
} as const;
export type DuplicateCause = keyof typeof DUPLICATE_CAUSES;

export interface DuplicateReport {
  /** Submits after a job had already been accepted (or possibly accepted) for the same task. */
  total: number;
  byCause: Partial<Record<DuplicateCause, number>>;
  /** Tasks with a duplicate no cause explains, with the submits' times. */
  unexplained: { task: string; detail: string }[];
}

/** Accepted, or perhaps accepted: a 2xx answer, or none at all. */
const mayHaveRun = (s: SubmitSeen) => s.status === null || (s.status >= 200 && s.status < 300);

/**
 * How much earlier than the simulator saw a call a kill may have been: a request the runtime had
 * written to the socket still arrives after it is gone.
 */
export const KILL_SLACK_MS = 1000;

function causeOf(earlier: SubmitSeen, next: SubmitSeen, outages: readonly Outage[], storeFailures: readonly number[]): DuplicateCause {
  if (earlier.garbled) return 'malformed';
  const kill = outages.find((o) => o.killed_at >= earlier.at - KILL_SLACK_MS && o.killed_at <= next.at);
  if (kill) return earlier.answered_at === null || kill.killed_at <= earlier.answered_at ? 'killedInFlight' : 'killedBeforeSave';
  if (earlier.answered_at !== null && storeFailures.some((t) => t >= earlier.answered_at! && t <= next.at)) return 'storeFailed';
  if (earlier.status === null) return 'hung';
  if (earlier.caller_gone) return 'timedOut';
  return 'unexplained';
}

/**
 * Counts and explains the duplicate submits of every task (`submits` per task, any order).
 * `storeFailures`: per task, when the Worker logged that it could not store the results.
 */
export function duplicateSubmits(
  submitsByTask: ReadonlyMap<string, readonly SubmitSeen[]>,
  outages: readonly Outage[],
  storeFailures: ReadonlyMap<string, readonly number[]> = new Map(),
): DuplicateReport {
  const report: DuplicateReport = { total: 0, byCause: {}, unexplained: [] };
  for (const [task, submits] of submitsByTask) {
    const ordered = [...submits].sort((a, b) => a.at - b.at);
    for (let i = 1; i < ordered.length; i++) {
      const earlier = ordered.slice(0, i).filter(mayHaveRun).at(-1);
      if (!earlier) continue;
      const cause = causeOf(earlier, ordered[i]!, outages, storeFailures.get(task) ?? []);
      report.total += 1;
      report.byCause[cause] = (report.byCause[cause] ?? 0) + 1;
      if (cause === 'unexplained') {
        const at = (s: SubmitSeen) => `${new Date(s.at).toISOString()} → ${s.status ?? 'no answer'}`;
        report.unexplained.push({ task, detail: ordered.map(at).join('; ') });
      }
    }
  }
  return report;
}
